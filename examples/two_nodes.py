"""Two nodes over one PostgreSQL journal: each durable actor runs on one of them (C2), a tell
or an ask through either reaches it (C4), and a node that leaves hands its actors over (C3).

Usage: python examples/two_nodes.py postgresql://USER:PASSWORD@HOST:PORT/DBNAME
(or set ACTORFLOW_POSTGRES_URL). Both nodes run in this one process to keep the example short;
in production each is its own process, on its own host:
``actorflow run app:main --journal postgresql://... --node NAME``.
"""

import os
import sys
from collections.abc import Callable

import anyio

import actorflow as af

NAMES = [f"counter-{i}" for i in range(8)]


class Add(af.Message, tag="two_nodes.Add"):
    n: int


class Total(af.State):
    value: int = 0


class Counter(af.Actor[Total], kind="two_nodes.Counter"):
    def on_add(self, msg: Add) -> Total:
        self.state.value += msg.n
        return self.state


def running(system: af.ActorSystem) -> set[str]:
    return {ref.name for ref in system.actors()}


async def until(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(30):
        while not condition():  # noqa: ASYNC110  # nothing signals a hand-over: polled
            await anyio.sleep(0.05)


async def main(url: str) -> None:
    # A short lease (1 s, renewed every third of it) so the hand-overs are quick to watch.
    async with af.ActorSystem(journal=af.PostgresJournal(url, node="a", lease=1.0)) as a:
        counters = [await a.spawn(Counter, name=name) for name in NAMES]
        async with af.ActorSystem(journal=af.PostgresJournal(url, node="b", lease=1.0)) as b:
            # b takes its fair share: a stops those actors, b restores them from the journal.
            await until(lambda: len(running(a)) == len(running(b)) == len(NAMES) // 2)
            print(f"a runs {len(running(a))} counters, b runs {len(running(b))}")
            for counter in counters:  # refs made on a work wherever the actor runs now
                await counter.tell(Add(1))
            values = set()
            for counter in counters:  # an ask too: b's replies come back through the journal
                total = await counter.ask(Add(0), expect=Total)
                values.add(total.value)
            print("values:", sorted(values))
        # b left cleanly: a takes its actors back at once, state and all.
        await until(lambda: running(a) == set(NAMES))
        print(f"b left; a runs all {len(running(a))}")


if __name__ == "__main__":
    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else os.environ["ACTORFLOW_POSTGRES_URL"])
