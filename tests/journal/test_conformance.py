"""The conformance suite every journal backend passes (J12): SQLite and in-memory.

Replay order, monotonic sequence numbers, atomic batches, idempotent appends by id (also after
reopening), dead letters and re-queues, and unreadable rows reported while their neighbours
stay readable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import actorflow as af
from actorflow.journal import (
    ActorRecord,
    Batch,
    Done,
    Failed,
    JournalBackend,
    MemoryJournal,
    MessageRecord,
    SQLiteJournal,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "memory"])
async def journal(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JournalBackend]:
    backend: JournalBackend
    backend = SQLiteJournal(tmp_path / "j.db") if request.param == "sqlite" else MemoryJournal()
    await backend.open()
    yield backend
    await backend.close()


def msg(i: int, recipient: str = "a", **fields: object) -> MessageRecord:
    return MessageRecord(
        id=f"m{i}", recipient=recipient, type="Add", body=bytes([i % 256]), **fields
    )  # type: ignore[arg-type]


async def test_j12_appends_get_monotonic_sequence_numbers_and_replay_in_order(
    journal: JournalBackend,
) -> None:
    first = await journal.write(Batch(appends=[msg(1), msg(2, "b"), msg(3)]))
    second = await journal.write(Batch(appends=[msg(4), msg(5, "b")]))
    seqs = first + second
    assert all(isinstance(s, int) for s in seqs)
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 5
    assert [m.id for m in await journal.pending("a")] == ["m1", "m3", "m4"]
    assert [m.id for m in await journal.pending()] == ["m1", "m2", "m3", "m4", "m5"]
    assert [m.id for m in await journal.pending("a", after=seqs[2], limit=1)] == ["m4"]


async def test_j12_append_is_idempotent_by_id(journal: JournalBackend) -> None:
    (first,) = await journal.write(Batch(appends=[msg(1)]))
    again, second = await journal.write(Batch(appends=[msg(1), msg(2)]))
    assert again is None
    assert first is not None
    assert second is not None
    assert second > first
    assert [m.id for m in await journal.pending()] == ["m1", "m2"]


async def test_j12_done_marks_and_states_commit_together(journal: JournalBackend) -> None:
    await journal.write(
        Batch(actors=[ActorRecord("a", "kind", b"\x90")], appends=[msg(1), msg(2), msg(3)])
    )
    await journal.write(
        Batch(done=[Done("m1", "a", b"s1", 1.0), Done("m2", "a", b"s2", 2.0)], claims=["m3"])
    )
    (actor,) = await journal.actors()
    assert (actor.state, actor.handled) == (b"s2", 2)  # only the last state of the batch counts
    (left,) = await journal.pending("a")
    assert (left.id, left.attempts) == ("m3", 1)
    done = await journal.message("m1")
    assert done is not None
    assert done.status == "done"


async def test_j12_registering_again_keeps_the_state(journal: JournalBackend) -> None:
    await journal.write(Batch(actors=[ActorRecord("a", "k1", b"\x90")], appends=[msg(1)]))
    await journal.write(Batch(done=[Done("m1", "a", b"state", 1.0)]))
    await journal.write(Batch(actors=[ActorRecord("a", "k2", b"\x91\x01", b"opts")]))
    actor = await journal.actor("a")
    assert actor is not None
    assert (actor.kind, actor.args, actor.options, actor.state) == (
        "k2",
        b"\x91\x01",
        b"opts",
        b"state",
    )


async def test_j12_failures_dead_letters_and_requeue(journal: JournalBackend) -> None:
    await journal.write(Batch(appends=[msg(1), msg(2)]))
    await journal.write(Batch(failed=[Failed("m1", 1, "ValueError: x", None, False)]))
    await journal.write(Batch(failed=[Failed("m2", 3, "ValueError: y", "trace", True)]))
    (pending,) = await journal.pending()
    assert (pending.id, pending.attempts, pending.error) == ("m1", 1, "ValueError: x")
    (dead,) = await journal.dead_letters()
    assert (dead.id, dead.attempts, dead.traceback) == ("m2", 3, "trace")
    await journal.write(Batch(requeues=["m2"]))
    assert [m.id for m in await journal.pending()] == ["m1", "m2"]
    assert await journal.dead_letters() == []


async def test_j12_schema_version(journal: JournalBackend) -> None:
    assert await journal.schema_version() == af.journal.SCHEMA_VERSION


async def test_j12_appends_survive_reopening_and_stay_idempotent(tmp_path: Path) -> None:
    for backend in (SQLiteJournal(tmp_path / "r.db"), MemoryJournal()):
        await backend.open()
        await backend.write(Batch(appends=[msg(1), msg(2)]))
        await backend.close()
        await backend.open()
        before = max(m.seq for m in await backend.pending())
        duplicate, new = await backend.write(Batch(appends=[msg(2), msg(3)]))
        assert duplicate is None
        assert new is not None
        assert new > before
        assert [m.id for m in await backend.pending()] == ["m1", "m2", "m3"]
        await backend.close()


async def test_j12_a_failing_batch_commits_nothing(tmp_path: Path) -> None:
    backend = SQLiteJournal(tmp_path / "atomic.db")
    await backend.open()
    try:
        await backend.write(Batch(appends=[msg(1)]))
        bad = MessageRecord(id="m2", recipient="a", type="Add", body=None)  # type: ignore[arg-type]
        with pytest.raises(af.JournalError):
            await backend.write(Batch(appends=[msg(3), bad], done=[Done("m1", "a", None, 1.0)]))
        assert [m.id for m in await backend.pending()] == ["m1"]  # neither m3 nor the done-mark
    finally:
        await backend.close()


async def test_j12_a_corrupt_row_is_reported_and_its_neighbours_stay_readable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "corrupt.db"
    backend = SQLiteJournal(path)
    await backend.open()
    try:
        await backend.write(Batch(appends=[msg(1), msg(2), msg(3)]))
        with sqlite3.connect(path) as raw:
            raw.execute("UPDATE messages SET body = 'not bytes' WHERE id = 'm2'")
        rows = await backend.pending()
        assert [r.id for r in rows] == ["m1", "m2", "m3"]
        assert [r.corrupt is None for r in rows] == [True, False, True]
        assert "messages seq=" in (rows[1].corrupt or "")
        assert "body is str" in (rows[1].corrupt or "")
    finally:
        await backend.close()
