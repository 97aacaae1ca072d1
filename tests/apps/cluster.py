"""An application for `actorflow run --node` over a PostgreSQL journal shared by several nodes
(C2, C3): durable counters that keep every number they are sent, print each one they handle
(with the time, for the failover figure), and ring a timer once.

Started by tests/test_c3_failover.py, which sends numbers from outside (J11), kills or pauses
nodes, and reads the counters' states from the journal. ``slow`` makes a handler take a second,
printing ``started`` first: a pause of the node during it leaves a commit in flight.
"""

from __future__ import annotations

import time

import anyio

import actorflow as af

NAMES = [f"counter-{i}" for i in range(8)]
RING_AFTER = 1.5  # seconds after a counter's first number


class Add(af.Message, tag="cluster.Add"):
    n: int
    slow: bool = False


class Ring(af.Message, tag="cluster.Ring"):
    pass


class Seen(af.State):
    numbers: list[int] = []
    rings: int = 0


class Counter(af.Actor[Seen], kind="cluster.Counter"):
    async def on_add(self, msg: Add) -> None:
        if msg.slow:
            print(f"started {self.ctx.name} {msg.n}", flush=True)
            await anyio.sleep(1.0)
        self.state.numbers.append(msg.n)
        if msg.n == 1:
            await self.ctx.schedule(RING_AFTER, Ring())
        print(f"handled {self.ctx.name} {msg.n} at={time.time():.6f}", flush=True)

    def on_ring(self, msg: Ring) -> None:
        self.state.rings += 1
        print(f"rang {self.ctx.name}", flush=True)


async def main(system: af.ActorSystem) -> None:
    for name in NAMES:
        await system.spawn(Counter, name=name)  # here, or registered for the node owning it
    print("ready", flush=True)
    fenced = 0
    while True:  # the refused commits, as the crash-cluster harness counts them
        stats = system.journal_statistics()
        if stats is not None and stats.fenced_commits_refused != fenced:
            fenced = stats.fenced_commits_refused
            print(f"fenced_commits_refused={fenced}", flush=True)
        await anyio.sleep(0.1)
