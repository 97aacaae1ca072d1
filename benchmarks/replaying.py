"""replay_strict: replaying a recorded 1,000-message conversation in strict mode (R1).

The conversation is a relay: each of 10 durable actors handles a `Hop`, records one step, updates
its state and sends the next hop to the next actor, 1,000 hops in all. It is recorded once on a
SQLite journal; each round then replays it from the file as ``actorflow replay`` does (read the
recording, run every turn, compare), timed from the start of the read to the report.
"""

from __future__ import annotations

import time
from pathlib import Path

import actorflow as af
from actorflow import replay, testing
from actorflow.journal import SQLiteJournal
from durable import scratch_directory
from harness import Row, Sizes, at_most, expect

RELAYS = 10


class Hop(af.Message, tag="bench.Hop"):
    n: int
    text: str


class Relayed(af.State):
    hops: int = 0
    last: str = ""


async def echo(text: str) -> str:
    return text[-40:] + "."


class Relay(af.Actor[Relayed], kind="bench.relay"):
    def __init__(self, total: int) -> None:
        self.total = total

    async def on_hop(self, msg: Hop) -> None:
        said = await self.ctx.step("llm", echo, msg.text)
        self.state.hops += 1
        self.state.last = said
        if msg.n + 1 < self.total:
            nxt = self.ctx.system.lookup(f"relay-{(msg.n + 1) % RELAYS}")
            await nxt.tell(Hop(msg.n + 1, f"{said} hop {msg.n + 1}"))


async def record(path: Path, messages: int) -> None:
    journal = SQLiteJournal(path, synchronous="NORMAL")  # building it is not what is measured
    async with af.ActorSystem(journal=journal) as system:
        refs = [await system.spawn(Relay, messages, name=f"relay-{i}") for i in range(RELAYS)]
        await refs[0].tell(Hop(0, "start"), id="relay-conversation")
        await testing.wait_idle(system)


async def replay_strict(sizes: Sizes) -> list[Row]:
    messages = sizes.replay_messages
    with scratch_directory() as directory:
        path = directory / "relay.db"
        await record(path, messages)
        best = float("inf")
        for _ in range(sizes.rounds):
            started = time.perf_counter()
            report = await replay.replay(path, "relay-conversation")
            best = min(best, time.perf_counter() - started)
            expect("turns replayed", len(report.turns), messages)
            expect("divergences", report.divergences, [])
    return [
        Row(
            "replay_strict",
            best,
            "s",
            at_most(1.0),
            note=(
                f"a {messages:,}-message conversation across {RELAYS} durable actors, one step"
                f" and one state per turn, replayed strictly from its SQLite journal (read,"
                f" run, compare): {best / messages * 1e6:.0f} us per turn"
            ),
        )
    ]
