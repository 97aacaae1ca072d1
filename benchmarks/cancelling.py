"""How soon a running system notices a cancel made outside it (``actorflow journal cancel``).

Issue 13 asks that a running system notice a cancel within 100 ms, as it notices an outside send
(J11). The benchmark runs a system with one durable actor, `Held`, busy with a `Hold` message
(its handler waits on an event) while a `Probe` waits behind it, asked by the benchmark. A
worker thread then cancels the probe the way the CLI does (`actorflow.journal.cancel` on its
own sqlite3 connection: one transaction with a notice, then the wake-up datagram), and the
delay measured runs from just before that call to the asker hearing `MessageCancelled`: the
transaction, the wake-up, the system taking the notice and dropping the message from the
mailbox, and the asker being told.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import time
from pathlib import Path
from typing import ClassVar

import actorflow as af
from actorflow.journal import cancel
from durable import scratch_directory
from harness import Row, Sizes, at_most, expect

CANCEL_WARMUP = 3
"""Probes cancelled before the measured ones."""

CANCEL_TIMEOUT = 10.0
"""Seconds one cancel may take to reach the asker before the run fails."""

HELD = "cancel-held"


class Hold(af.Message, tag="bench.Hold"):
    """Keeps `Held` busy until the benchmark lets it go."""


class Probe(af.Message, tag="bench.Probe"):
    """The message that waits behind a `Hold`, and is cancelled."""

    n: int


class Held(af.Actor[None], kind="bench.held"):
    """Busy with each `Hold` until `release` is set; answers a `Probe` it gets to (none should)."""

    release: ClassVar[asyncio.Event | None] = None

    async def on_hold(self, msg: Hold) -> None:
        assert Held.release is not None
        await Held.release.wait()

    def on_probe(self, msg: Probe) -> int:
        return msg.n


async def outside_cancel_latency(sizes: Sizes) -> list[Row]:
    delays: list[float] = []
    with scratch_directory() as directory:
        path = directory / "cancel.db"
        async with af.ActorSystem(journal=path) as system:
            held = await system.spawn(Held, name=HELD)
            for n in range(CANCEL_WARMUP + sizes.pickups):
                delay = await _cancel_one(path, held, n)
                if n >= CANCEL_WARMUP:
                    delays.append(delay)
            await system.wait_idle()
            stats = system.statistics()
    expect("messages handled (the holds, never a probe)", stats.handled, len(delays) + 3)
    return [
        Row(
            "outside_cancel_latency",
            statistics.median(delays),
            "ms",
            at_most(100),
            note=(
                f"median of {len(delays)} probes, each waiting in a durable actor's mailbox"
                " behind a busy handler and cancelled by actorflow.journal.cancel (as `actorflow"
                " journal cancel --message` does: its own sqlite3 connection, one transaction"
                " with a notice, the wake-up datagram) from a worker thread, from just before"
                f" the call to the asker hearing MessageCancelled; max {max(delays):.2f} ms"
            ),
        )
    ]


async def _cancel_one(path: Path, held: af.ActorRef[Hold | Probe], n: int) -> float:
    """Milliseconds from the cancel of a waiting probe to its asker hearing of it."""
    Held.release = release = asyncio.Event()
    await held.tell(Hold())
    asked = asyncio.ensure_future(held.ask(Probe(n), timeout=CANCEL_TIMEOUT))
    try:
        probe_id = await asyncio.wait_for(asyncio.to_thread(_pending_probe, path, n), 10)
        started = time.perf_counter()
        cancelled = await asyncio.to_thread(cancel, path, message_id=probe_id, by="bench")
        expect("probes cancelled", cancelled.count, 1)
        try:
            answer = await asyncio.wait_for(asked, CANCEL_TIMEOUT)
        except af.MessageCancelled:
            return (time.perf_counter() - started) * 1e3
        raise RuntimeError(f"probe {n} was handled ({answer!r}), not cancelled")
    finally:
        release.set()
        if not asked.done():
            asked.cancel()


def _pending_probe(path: Path, n: int) -> str:
    """The id of probe `n` once the ask has committed it (polled: this is not the measured part)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        while True:
            rows = conn.execute(
                "SELECT id, body FROM messages WHERE status = 'pending' AND type = ?"
                " ORDER BY seq DESC LIMIT 1",
                (Probe.__struct_config__.tag,),
            ).fetchall()
            if rows and af.Codec(Probe).decode(rows[0][1]).n == n:
                return str(rows[0][0])
            time.sleep(0.001)
    finally:
        conn.close()
