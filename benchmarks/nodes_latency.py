"""`tell_across_nodes_latency`: a tell to a durable actor another node owns, until it is handled.

Two nodes (`PostgresJournal(url, node=...)`) over one throwaway PostgreSQL server
(tests/journal/postgres_server.py, ``synchronous_commit=on``), both in this process as the C4
tests run them. The first spawns the receivers, the second joins and takes its share; then a
tell through the first node's reference to a receiver the second runs is committed by the first
(J2), and the second takes it in on its LISTEN/NOTIFY wake-up (C4, J11) and handles it. What
is timed is ``time.time()`` in the message, just before the tell, to ``time.time()`` in the
handler; one tell at a time. The baseline is PostgreSQL's own: a row inserted and a NOTIFY on
one connection, until another connection that LISTENs has the notification.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

import psycopg

import actorflow as af
from harness import Row, Sizes, at_most, expect
from outside import Receiver, Stamped, next_handled  # the same message and receiver

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' server helper
from tests.journal.postgres_server import postgres_server

RECEIVERS = [f"node-receiver-{i}" for i in range(16)]
"""Spawned by the first node; the second takes about half of them when it joins."""

LEASE = 1.0
"""Seconds of a node's lease: rounds every third of it, so the shares settle within seconds."""

WARMUP = 3
"""Tells handled before the measured ones."""

TIMEOUT = 30.0
"""Seconds the shares may take to settle, or one tell to be handled, before the run fails."""


async def tell_across_nodes_latency(sizes: Sizes) -> list[Row]:
    count = sizes.pickups
    with postgres_server(synchronous_commit=True) as server:
        url = server.new_database()
        baseline = await asyncio.to_thread(_notify_round_trips, server.new_database(), count)
        delays = await _across_nodes(url, count)
    return [
        Row(
            "tell_across_nodes_latency",
            statistics.median(delays),
            "ms",
            at_most(100),
            note=(
                f"median of {len(delays)} tells, one at a time after {WARMUP} warm-up ones,"
                " from one node to a durable actor the other node owns (two nodes in one"
                " process over one PostgreSQL server, synchronous_commit=on), from the"
                f" time.time() in the message to the handler's; max {max(delays):.2f} ms;"
                f" PostgreSQL's own INSERT + NOTIFY to a LISTENing connection: median"
                f" {statistics.median(baseline):.2f} ms in the same run"
            ),
        )
    ]


async def _across_nodes(url: str, count: int) -> list[float]:
    queue = Receiver.handled = asyncio.Queue()
    try:
        first = af.PostgresJournal(url, node="bench-a", lease=LEASE)
        async with af.ActorSystem(journal=first) as a:
            for name in RECEIVERS:
                await a.spawn(Receiver, name=name)
            second = af.PostgresJournal(url, node="bench-b", lease=LEASE)
            async with af.ActorSystem(journal=second) as b:
                there = await _one_moved(a, b)
                ref = a.lookup(there)  # a reference on the first node to the second's actor
                delays = []
                for n in range(WARMUP + count):
                    await ref.tell(Stamped(n, time.time()))
                    msg, handled_at = await next_handled(queue, TIMEOUT, "a tell across nodes")
                    expect("message handled on the other node", msg.n, n)
                    if n >= WARMUP:
                        delays.append((handled_at - msg.sent_at) * 1e3)
                await b.wait_idle()
    finally:
        Receiver.handled = None
    return delays


async def _one_moved(a: af.ActorSystem, b: af.ActorSystem) -> str:
    """A receiver the second node runs and the first does not (polled: what each runs)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        on_a = {ref.name for ref in a.actors()}
        on_b = {ref.name for ref in b.actors()}
        moved = sorted(set(RECEIVERS) & on_b - on_a)
        if moved and on_a | on_b >= set(RECEIVERS):
            return moved[0]
        if time.monotonic() > deadline:
            raise RuntimeError(f"the second node took no receiver within {TIMEOUT:g} s")
        await asyncio.sleep(0.05)


def _notify_round_trips(url: str, count: int) -> list[float]:
    """Milliseconds from INSERT + NOTIFY on one connection to the notification on another."""
    delays = []
    with (
        psycopg.connect(url, autocommit=True) as sender,
        psycopg.connect(url, autocommit=True) as listener,
    ):
        sender.execute("CREATE TABLE bench_notes (n BIGINT NOT NULL, sent_at FLOAT8 NOT NULL)")
        listener.execute("LISTEN bench_nodes")
        for n in range(WARMUP + count):
            started = time.perf_counter()
            with sender.transaction():
                sender.execute("INSERT INTO bench_notes VALUES (%s, %s)", (n, time.time()))
                sender.execute("SELECT pg_notify('bench_nodes', %s)", (str(n),))
            received = next(listener.notifies(timeout=TIMEOUT, stop_after=1), None)
            if received is None:
                raise RuntimeError(f"PostgreSQL's NOTIFY did not arrive within {TIMEOUT:g} s")
            expect("notification payload", received.payload, str(n))
            if n >= WARMUP:
                delays.append((time.perf_counter() - started) * 1e3)
    return delays
