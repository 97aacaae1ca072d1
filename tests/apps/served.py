"""An application for `actorflow run`, started by tests/cli/test_run_command.py.

`main` ticks a durable counter five times (idempotent ids continue where the journal stands)
and prints what it saw; `tree` declares the same counter as the root's child.
"""

from __future__ import annotations

import anyio

import actorflow as af


class Tick(af.Message, tag="served.Tick"):
    n: int


class Seen(af.Message, tag="served.Seen"):
    pass


class Tally(af.State):
    seen: list[int] = []


class Counter(af.Actor[Tally], kind="served.Counter"):
    def on_tick(self, msg: Tick) -> None:
        self.state.seen.append(msg.n)

    def on_seen(self, msg: Seen) -> list[int]:
        return self.state.seen


async def main(system: af.ActorSystem) -> None:
    counter = await system.spawn(Counter, name="counter")
    start = len(await counter.ask(Seen(), expect=list))
    print(f"ready seen={start}", flush=True)
    for n in range(start, start + 5):
        await counter.tell(Tick(n), id=f"tick-{n}")
    print(f"sent seen={await counter.ask(Seen(), expect=list)}", flush=True)
    await anyio.sleep_forever()


tree = af.Supervisor(name="root", children=[af.Child(Counter, name="counter")])


def not_a_factory() -> int:
    return 3
