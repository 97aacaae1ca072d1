"""`durable_throughput` on a PostgreSQL journal, beside plain psycopg doing the same writes.

The server is a throwaway one started for the run the way the tests start theirs
(tests/journal/postgres_server.py: `pg_config --bindir`, a temporary directory, a Unix socket,
``fsync=on``, ``synchronous_commit=on``); each round gets a fresh schema.
"""

from __future__ import annotations

import asyncio
import sys
import time
from functools import partial
from pathlib import Path

import msgspec
import psycopg

import actorflow as af
from durable import (
    BASELINE_BATCH,
    Add,
    DurableCounter,
    Total,
    actor_names,
    new_id,
    produce,
    timed_tells,
)
from harness import Row, Sizes, alternate, at_least, expect, now_ns, per_second

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' server helper
from tests.journal.postgres_server import PostgresServer, postgres_server

_encode = msgspec.msgpack.Encoder().encode


async def durable_throughput_postgres(sizes: Sizes) -> list[Row]:
    """`durable_throughput`'s workload on a `PostgresJournal`, against plain psycopg writing
    the same rows and state updates in batches of `BASELINE_BATCH` per transaction."""
    actors, count = sizes.durable_actors, sizes.durable_messages
    commits: dict[float, str] = {}
    with postgres_server(synchronous_commit=True) as server:
        samples = await alternate(
            sizes.rounds,
            {
                "psycopg": partial(_psycopg_rows_in_thread, server, actors, count),
                "actorflow": partial(_actorflow, server, actors, count, commits),
            },
        )
    rate = max(samples["actorflow"])
    note = (
        f"{count:,} messages to {actors:,} actors, one producer each, on PostgreSQL"
        f" (Unix socket, fsync=on, synchronous_commit=on); {commits[rate]}; baseline: plain"
        f" psycopg rows/s, one connection, {BASELINE_BATCH:,} inserts + per-actor state updates"
        " per transaction (executemany, pipelined)"
    )
    return [
        Row(
            "durable_throughput_postgres",
            rate,
            "msg/s",
            at_least(0.3),
            max(samples["psycopg"]),
            note=note,
        ),
        Row(
            "durable_throughput_postgres_rate",
            rate,
            "msg/s",
            at_least(20_000),
            note="durable_throughput_postgres's msg/s against an absolute target",
        ),
    ]


async def _actorflow(
    server: PostgresServer, actors: int, count: int, commits: dict[float, str]
) -> float:
    per_producer, rest = divmod(count, actors)
    expect("messages per producer (count % actors)", rest, 0)
    journal = af.PostgresJournal(server.new_database(), readers=2)
    async with af.ActorSystem(journal=journal) as system:
        refs = await asyncio.gather(
            *(system.spawn(DurableCounter, name=name) for name in actor_names(actors))
        )
        await asyncio.gather(*(produce(ref, 1) for ref in refs))
        await system.wait_idle()
        return await timed_tells(system, [(ref, per_producer) for ref in refs], count, commits)


async def _psycopg_rows_in_thread(server: PostgresServer, actors: int, count: int) -> float:
    return await asyncio.to_thread(_psycopg_rows, server.new_database(), actors, count)


def _psycopg_rows(url: str, actors: int, count: int) -> float:
    """Insert `count` message rows, updating the recipient's state row for each, in batches,
    with the journal's column types and a unique text id."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit TO on")
        conn.execute(
            "CREATE TABLE messages (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " id TEXT NOT NULL UNIQUE, recipient TEXT NOT NULL, type TEXT NOT NULL,"
            " body BYTEA NOT NULL, created_at DOUBLE PRECISION NOT NULL,"
            " status TEXT NOT NULL DEFAULT 'pending')"
        )
        conn.execute(
            "CREATE TABLE actors (name TEXT PRIMARY KEY, state BYTEA, handled BIGINT NOT NULL,"
            " updated_at DOUBLE PRECISION NOT NULL)"
        )
        names = actor_names(actors)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO actors VALUES (%s, NULL, 0, 0)", [(n,) for n in names])
        body = _encode(Add(1))
        totals = dict.fromkeys(names, 0)
        start = now_ns()
        for first in range(0, count, BASELINE_BATCH):
            now = time.time()
            messages = []
            states = []
            for i in range(first, min(first + BASELINE_BATCH, count)):
                name = names[i % actors]
                messages.append((new_id(), name, "bench.Add", body, now))
                totals[name] += 1
                states.append((_encode(Total(totals[name])), now, name))
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO messages (id, recipient, type, body, created_at, status)"
                    " VALUES (%s, %s, %s, %s, %s, 'done')",
                    messages,
                )
                cur.executemany(
                    "UPDATE actors SET state = %s, handled = handled + 1, updated_at = %s"
                    " WHERE name = %s",
                    states,
                )
        elapsed = now_ns() - start
        row = conn.execute("SELECT count(*) FROM messages").fetchone()
    expect("psycopg rows", row[0] if row else 0, count)
    return per_second(count, elapsed)
