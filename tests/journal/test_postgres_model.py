"""The PostgreSQL journal reads back what the SQLite journal does, for any sequence of batches
(J3, J12, R2, T2): random batches over a few ids (repeated ids, claims of done messages,
failures, re-queues, steps and started markers, timers, recorded and unrecorded turns, all in
one batch) applied to both, then every read compared, and again after pinning one
conversation and compacting (J10)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actorflow.journal import (
    ActorRecord,
    Batch,
    Done,
    Failed,
    JournalBackend,
    MessageRecord,
    PostgresJournal,
    SQLiteJournal,
    StepRecord,
    TimerRecord,
)

from .postgres_server import PostgresServer

IDS = [f"m{i}" for i in range(6)]
ACTORS = ["a", "b"]
CONVERSATIONS = ["c0", "c1"]

ids = st.sampled_from(IDS)
actors = st.sampled_from(ACTORS)
blobs = st.none() | st.binary(max_size=2)
messages = st.builds(
    lambda m_id, to, body, conversation: MessageRecord(
        id=m_id, recipient=to, type="T", body=body, conversation=conversation
    ),
    ids,
    actors,
    st.binary(max_size=3),
    st.sampled_from(CONVERSATIONS),
)
batches = st.builds(
    Batch,
    actors=st.lists(
        st.builds(lambda n, args: ActorRecord(n, "k", args), actors, st.binary(max_size=2)),
        max_size=2,
    ),
    appends=st.lists(messages, max_size=4),
    claims=st.lists(ids, max_size=3),
    done=st.lists(
        st.builds(
            lambda m_id, actor, state, before, reply, recorded: Done(
                m_id, actor, state, 1.0, before=before, reply=reply, recorded=recorded
            ),
            ids,
            actors,
            blobs,
            blobs,
            blobs,
            st.booleans(),
        ),
        max_size=3,
    ),
    failed=st.lists(
        st.builds(
            lambda m_id, n, dead: Failed(m_id, n, f"E{n}", None, dead),
            ids,
            st.integers(1, 3),
            st.booleans(),
        ),
        max_size=2,
    ),
    requeues=st.lists(ids, max_size=2),
    steps=st.lists(
        st.builds(
            lambda m_id, step, result, args, position: StepRecord(
                m_id, step, result, args=args, position=position
            ),
            ids,
            st.sampled_from(["s", "s#2", "t"]),
            st.binary(max_size=2),
            blobs,
            st.integers(0, 3),
        ),
        max_size=3,
    ),
    timers=st.lists(
        st.builds(TimerRecord, messages, st.floats(0, 100, allow_nan=False)), max_size=2
    ),
    cancels=st.lists(ids, max_size=2),
)


async def observed(backend: JournalBackend, results: list[list[int | None]]) -> Any:
    """Everything a reader can see, with seqs replaced by their order (numbering may differ)."""
    pending = await backend.pending()
    every = pending + await backend.dead_letters()
    for m_id in IDS:
        found = await backend.message(m_id)
        if found is not None and found.status == "done":
            every.append(found)
    rank = {s: n for n, s in enumerate(sorted(m.seq for m in every))}
    return {
        "appended": [[s is not None for s in seqs] for seqs in results],
        "messages": sorted(
            (rank[m.seq], m.id, m.recipient, m.body, m.attempts, m.status, m.error) for m in every
        ),
        "pending": [m.id for m in pending],
        "actors": [(a.name, a.kind, a.args, a.state, a.handled) for a in await backend.actors()],
        "steps": {m_id: await backend.steps(m_id) for m_id in IDS},
        "timers": [(t.id, t.due_at, t.message.body) for t in await backend.timers()],
        "turns": {
            c: [
                (
                    t.message_id,
                    t.actor,
                    t.before,
                    t.after,
                    t.reply,
                    t.recorded,
                    [(s.step, s.result, s.args, s.position) for s in t.steps],
                )
                for t in await backend.turns(c)
            ]
            for c in CONVERSATIONS
        },
        "pinned": await backend.pinned(),
    }


async def apply(backend: JournalBackend, plan: list[Batch]) -> Any:
    await backend.open()
    try:
        results = [await backend.write(batch) for batch in plan]
        written = await observed(backend, results)
        pinned = await backend.pin("c0")
        compacted = await backend.compact(2.0)  # every done message but those of c0
        return (
            written,
            pinned,
            (compacted.messages, compacted.steps),
            await observed(backend, results),
        )
    finally:
        await backend.close()


@pytest.mark.timeout(180)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=st.lists(batches, min_size=1, max_size=5))
def test_j12_postgres_reads_back_what_sqlite_does(
    postgres: PostgresServer, plan: list[Batch]
) -> None:
    url = postgres.new_database()
    with tempfile.TemporaryDirectory() as directory:
        sqlite = anyio.run(apply, SQLiteJournal(Path(directory) / "j.db"), plan)
    assert anyio.run(apply, PostgresJournal(url, readers=1), plan) == sqlite
