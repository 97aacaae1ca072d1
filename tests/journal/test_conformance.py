"""The conformance suite every journal backend passes (J12): SQLite, in-memory and PostgreSQL.

Replay order, monotonic sequence numbers, atomic batches, idempotent appends by id (also after
reopening), dead letters and re-queues, and unreadable rows reported while their neighbours
stay readable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
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
    PostgresJournal,
    SQLiteJournal,
    StepRecord,
    TimerRecord,
    TurnRecord,
    _sqlite_writer,
    conversation_tree,
)
from actorflow.journal._pg_outside import cancel_outside as pg_cancel_outside
from actorflow.journal._schema import MIGRATIONS
from actorflow.journal._statements import append_outside, cancel_outside

from .postgres_server import PostgresServer

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "memory", "postgres"])
async def journal(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JournalBackend]:
    backend: JournalBackend
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        backend = PostgresJournal(server.new_database())
    elif request.param == "sqlite":
        backend = SQLiteJournal(tmp_path / "j.db")
    else:
        backend = MemoryJournal()
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


async def test_j12_an_id_twice_in_one_batch_is_appended_once_and_only_the_first_has_a_seq(
    journal: JournalBackend,
) -> None:
    """J2, J12: the writer delivers every append that got a seq, so the repeated copy must get
    None (SQLite gave both copies the one seq, and a group commit holding two tells of one id
    delivered the message twice)."""
    (before,) = await journal.write(Batch(appends=[msg(1)]))
    seqs = await journal.write(Batch(appends=[msg(2), msg(3), msg(2), msg(1), msg(3)]))
    assert before is not None
    assert seqs[0] is not None
    assert seqs[1] is not None
    assert seqs[0] > before
    assert seqs[1] > seqs[0]
    assert seqs[2:] == [None, None, None]
    assert [(m.id, m.seq) for m in await journal.pending()] == [
        ("m1", before),
        ("m2", seqs[0]),
        ("m3", seqs[1]),
    ]


async def test_j12_seqs_of_new_appends_after_repeated_ids_are_the_ones_stored(
    journal: JournalBackend,
) -> None:
    """J2, J12: the seq the writer delivers a message with is the one the journal stored it
    under, also when repeated ids come first in the batch (SQLite uses up a number for a row
    it skips, so the new rows' numbers have gaps) and in a batch long enough for several
    statements."""
    await journal.write(Batch(appends=[msg(1), msg(2)]))
    batch = [msg(1), msg(3), msg(3), msg(2), msg(4)] + [msg(i) for i in range(10, 80)] + [msg(1)]
    seqs = await journal.write(Batch(appends=batch))
    stored = {m.id: m.seq for m in await journal.pending()}
    expected = [None, stored["m3"], None, None, stored["m4"]]
    assert seqs == expected + [stored[f"m{i}"] for i in range(10, 80)] + [None]


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


# -- schema 2: steps, timers, conversations, notices, compaction (J4, J6, J7, J10, J11) --------


async def test_j4_steps_are_recorded_once_per_message_and_step(journal: JournalBackend) -> None:
    await journal.write(Batch(appends=[msg(1), msg(2)]))
    await journal.write(Batch(steps=[StepRecord("m1", "llm", b"first")]))
    await journal.write(
        Batch(steps=[StepRecord("m1", "llm", b"again"), StepRecord("m1", "llm#2", b"second")])
    )
    assert await journal.steps("m1") == {"llm": b"first", "llm#2": b"second"}  # first one kept
    assert await journal.steps("m2") == {}


async def test_t2_a_started_marker_is_replaced_by_its_result_and_never_replaces_one(
    journal: JournalBackend,
) -> None:
    """T2: an empty result marks a step whose outside call went out; its result replaces the
    marker, a later marker never hides a result, and the first result stays the result."""
    await journal.write(Batch(appends=[msg(1)]))
    await journal.write(Batch(steps=[StepRecord("m1", "pay", b""), StepRecord("m1", "read", b"")]))
    assert await journal.steps("m1") == {"pay": b"", "read": b""}
    await journal.write(Batch(steps=[StepRecord("m1", "pay", b"paid")]))
    await journal.write(Batch(steps=[StepRecord("m1", "pay", b""), StepRecord("m1", "pay", b"x")]))
    assert await journal.steps("m1") == {"pay": b"paid", "read": b""}


async def test_j6_timers_are_stored_until_cancelled_or_fired(journal: JournalBackend) -> None:
    early, late = (
        TimerRecord(msg(i, conversation="c", cause="m0", trace="00-ab-cd-01"), due_at=due)
        for i, due in ((7, 100.0), (8, 50.0))
    )
    await journal.write(Batch(timers=[early, late]))
    assert [(t.id, t.due_at) for t in await journal.timers()] == [("m8", 50.0), ("m7", 100.0)]
    (stored, _) = await journal.timers()
    assert (stored.message.conversation, stored.message.cause, stored.message.trace) == (
        "c",
        "m0",
        "00-ab-cd-01",
    )
    # Firing: the timer's message appended under its id and the timer gone, in one batch.
    (seq,) = await journal.write(Batch(appends=[late.message], cancels=[late.id]))
    assert seq is not None
    assert [t.id for t in await journal.timers()] == ["m7"]
    assert [m.id for m in await journal.pending()] == ["m8"]
    await journal.write(Batch(cancels=["m7", "never-was"]))
    assert await journal.timers() == []


async def test_j7_a_conversation_reads_back_in_order(journal: JournalBackend) -> None:
    await journal.write(
        Batch(
            appends=[
                msg(1, conversation="m1"),
                msg(2, conversation="m1", cause="m1", sender="a"),
                msg(3, conversation="other"),
                msg(4, conversation="m1", cause="m2", sender="b"),
            ]
        )
    )
    found = await journal.conversation("m1")
    assert [(m.id, m.cause) for m in found] == [("m1", None), ("m2", "m1"), ("m4", "m2")]
    (root,) = conversation_tree(found)
    assert [(depth, m.id) for depth, m in root.walk()] == [(0, "m1"), (1, "m2"), (2, "m4")]


async def test_j10_compaction_removes_old_done_messages_and_their_steps(
    journal: JournalBackend,
) -> None:
    await journal.write(
        Batch(actors=[ActorRecord("a", "k", b"\x90")], appends=[msg(i) for i in range(1, 6)])
    )
    await journal.write(
        Batch(
            done=[Done("m1", "a", b"s1", 10.0), Done("m2", "a", b"s2", 20.0)],
            failed=[Failed("m3", 3, "boom", None, True)],
            steps=[StepRecord(f"m{i}", "llm", b"r") for i in range(1, 5)],
            timers=[TimerRecord(msg(9), due_at=1.0)],
        )
    )
    result = await journal.compact(15.0)
    assert (result.messages, result.steps) == (1, 1)  # m1 and its step
    assert await journal.message("m1") is None
    assert await journal.message("m2") is not None  # done after the cutoff
    everything = await journal.compact(1e12)
    assert (everything.messages, everything.steps) == (1, 1)  # m2 and its step
    assert [m.id for m in await journal.pending()] == ["m4", "m5"]
    assert [m.id for m in await journal.dead_letters()] == ["m3"]
    assert await journal.steps("m3") == {"llm": b"r"}  # a dead letter may be re-queued
    assert await journal.steps("m4") == {"llm": b"r"}
    assert len(await journal.timers()) == 1
    actor = await journal.actor("a")
    assert actor is not None
    assert actor.state == b"s2"


async def test_r2_turns_keep_states_before_and_after_replies_and_ordered_steps(
    journal: JournalBackend,
) -> None:
    await journal.write(
        Batch(
            actors=[ActorRecord("a", "k", b"\x90")],
            appends=[msg(1, conversation="c"), msg(2, conversation="c"), msg(3, conversation="x")],
        )
    )
    await journal.write(
        Batch(
            steps=[
                StepRecord("m1", "tool", b"t", args=b"d2", position=2),
                StepRecord("m1", "llm", b"l", args=b"d1", position=1),
                StepRecord("m1", "llm#2", b"l2", args=None, position=3),
            ]
        )
    )
    await journal.write(
        Batch(
            done=[
                Done("m1", "a", b"s1", 1.0, before=b"s0", reply=b"r1"),
                Done("m2", "a", None, 2.0, before=None, recorded=False),
                Done("m3", "a", b"s3", 3.0, before=b"s1"),
            ]
        )
    )
    first, second = await journal.turns("c")
    assert (first.message_id, first.actor, first.before, first.after, first.reply) == (
        "m1",
        "a",
        b"s0",
        b"s1",
        b"r1",
    )
    assert [(st.step, st.result, st.args, st.position) for st in first.steps] == [
        ("llm", b"l", b"d1", 1),
        ("tool", b"t", b"d2", 2),
        ("llm#2", b"l2", None, 3),
    ]
    assert second == TurnRecord("m2", "a", None, None, None, [], recorded=False)
    assert [t.message_id for t in await journal.turns("x")] == ["m3"]
    assert await journal.turns("nothing") == []


async def test_r2_compaction_keeps_a_pinned_conversation_whole(journal: JournalBackend) -> None:
    await journal.write(
        Batch(
            actors=[ActorRecord("a", "k", b"\x90")],
            appends=[
                msg(1, conversation="m1"),
                msg(2, conversation="m1"),
                msg(3, conversation="m3"),
            ],
            steps=[StepRecord("m2", "llm", b"r"), StepRecord("m3", "llm", b"r")],
        )
    )
    await journal.write(Batch(done=[Done(f"m{i}", "a", b"s", 1.0, before=b"s") for i in (1, 2, 3)]))
    assert await journal.pin("m1") is True
    assert await journal.pin("m1") is False  # already pinned
    assert await journal.pinned() == ["m1"]
    result = await journal.compact(1e12)
    assert (result.messages, result.steps) == (1, 1)  # m3 and its step only
    assert [m.id for m in await journal.conversation("m1")] == ["m1", "m2"]
    assert await journal.steps("m2") == {"llm": b"r"}
    assert [t.message_id for t in await journal.turns("m1")] == ["m1", "m2"]
    assert await journal.pin("m1", False) is True
    assert await journal.pin("m1", False) is False
    assert await journal.pinned() == []
    again = await journal.compact(1e12)
    assert again.messages == 2
    assert await journal.turns("m1") == []


async def test_j11_notices_of_outside_appends_are_taken_once(tmp_path: Path) -> None:
    sqlite_path = tmp_path / "notices.db"
    backends: list[JournalBackend] = [SQLiteJournal(sqlite_path), MemoryJournal()]
    for backend in backends:
        await backend.open()
        try:
            await backend.write(Batch(appends=[msg(1)]))
            if isinstance(backend, MemoryJournal):
                backend.append_outside(msg(2))
                backend.append_outside(msg(3))
            else:
                conn = sqlite3.connect(sqlite_path, isolation_level=None)
                append_outside(conn, msg(2))
                append_outside(conn, msg(3))
                assert append_outside(conn, msg(3)) is None  # the same id: nothing written
                conn.close()
            await backend.write(Batch(done=[Done("m3", "a", None, 1.0)]))
            taken = await backend.take_notices()
            assert [m.id for m in taken] == ["m2"]  # m3 was handled meanwhile
            assert await backend.take_notices() == []
        finally:
            await backend.close()


async def test_j8_a_schema_1_journal_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        for statement in MIGRATIONS[1]:
            conn.execute(statement)
        conn.execute("INSERT INTO actorflow_meta VALUES ('schema_version', '1')")
        conn.execute(
            "INSERT INTO messages (id, recipient, type, body, created_at)"
            " VALUES ('old-1', 'a', 'Add', x'01', 1.0)"
        )
    conn.close()
    backend = SQLiteJournal(path)
    await backend.open()
    try:
        assert await backend.schema_version() == af.journal.SCHEMA_VERSION
        (old,) = await backend.pending()
        assert (old.id, old.trace) == ("old-1", None)
        await backend.write(Batch(steps=[StepRecord("old-1", "s", b"x")]))
        assert await backend.steps("old-1") == {"s": b"x"}
    finally:
        await backend.close()


@pytest.mark.parametrize("update_from", [True, False])
async def test_j3_large_batches_in_chunks_and_without_update_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, update_from: bool
) -> None:
    """Batches bigger than a chunk of rows (and SQLite without UPDATE ... FROM, before 3.33)
    append, mark done and keep each actor's last state exactly as small ones do."""
    monkeypatch.setattr(_sqlite_writer, "_UPDATE_FROM", update_from)
    # In this process: a writer process would not see the patched module.
    backend = SQLiteJournal(tmp_path / "chunks.db", writer_process=False)
    await backend.open()
    try:
        count = 2 * _sqlite_writer._CHUNK + 3
        names = ("a", "b", "c")
        await backend.write(Batch(actors=[ActorRecord(n, "k", b"\x90") for n in names]))
        seqs = await backend.write(
            Batch(appends=[msg(i, names[i % 3]) for i in range(1, count + 1)])
        )
        assert seqs == list(range(seqs[0] or 0, (seqs[0] or 0) + count))
        # Every message but the last handled, each by its actor, in one batch.
        done = [
            Done(f"m{i}", names[i % 3], f"s{i}".encode(), float(i), seq)
            for i, seq in zip(range(1, count), seqs, strict=False)
        ]
        await backend.write(Batch(done=done))
        assert [m.id for m in await backend.pending()] == [f"m{count}"]
        found = await backend.message("m1")
        assert found is not None
        assert (found.status, found.done_at) == ("done", 1.0)
        expected = {
            n: ([d.state for d in done if d.actor == n][-1], sum(d.actor == n for d in done))
            for n in names
        }
        assert {a.name: (a.state, a.handled) for a in await backend.actors()} == expected
    finally:
        await backend.close()


# -- schema 3: cancelled messages (actorflow journal cancel; J3, J6, J10, J11) ----------------


def cancel_from_outside(
    journal: JournalBackend, path: Path, ids: list[str], *, at: float = 100.0
) -> None:
    """Cancel messages or timers by id as another process does (``journal cancel``)."""
    if isinstance(journal, MemoryJournal):
        journal.cancel_outside(ids, by="op via test", at=at)
        return
    if isinstance(journal, PostgresJournal):
        with psycopg.connect(journal.conninfo, autocommit=True) as pg:
            pg_cancel_outside(pg, ids, by="op via test", at=at)
        return
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for message_id in ids:
            cancel_outside(conn, message_id=message_id, by="op via test", at=at)
    finally:
        conn.close()


@pytest.fixture(params=["sqlite", "memory", "postgres"])
async def journal_at(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[JournalBackend, Path]]:
    path = tmp_path / "c.db"
    backend: JournalBackend
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        backend = PostgresJournal(server.new_database())
    else:
        backend = SQLiteJournal(path) if request.param == "sqlite" else MemoryJournal()
    await backend.open()
    yield backend, path
    await backend.close()


async def test_j11_cancelled_messages_and_timers_are_noticed_never_pending_and_kept(
    journal_at: tuple[JournalBackend, Path],
) -> None:
    journal, path = journal_at
    await journal.write(Batch(appends=[msg(1), msg(2), msg(3)]))
    await journal.write(
        Batch(done=[Done("m3", "a", None, 1.0)], timers=[TimerRecord(msg(7, "b"), due_at=5.0)])
    )
    await journal.take_notices()
    cancel_from_outside(journal, path, ["m2", "m3", "m7", "nothing"])  # m3 is done: left alone
    assert [m.id for m in await journal.pending()] == ["m1"]
    assert await journal.timers() == []
    taken = await journal.take_notices()
    assert [(m.id, m.status, m.recipient) for m in taken] == [
        ("m2", "cancelled", "a"),
        ("m7", "cancelled", "b"),  # the timer, kept as the message it would have sent
    ]
    assert await journal.take_notices() == []
    m2 = await journal.message("m2")
    assert m2 is not None
    assert (m2.status, m2.cancelled_at, m2.cancelled_by) == ("cancelled", 100.0, "op via test")
    m3 = await journal.message("m3")
    assert m3 is not None
    assert (m3.status, m3.cancelled_at) == ("done", None)
    # A timer firing that raced the cancel appends nothing: its id is taken.
    assert await journal.write(Batch(appends=[msg(7, "b")], cancels=["m7"])) == [None]
    m7 = await journal.message("m7")
    assert m7 is not None
    assert m7.status == "cancelled"


async def test_j3_a_cancelled_message_whose_turn_commits_is_done_with_the_cancel_recorded(
    journal_at: tuple[JournalBackend, Path],
) -> None:
    journal, path = journal_at
    await journal.write(Batch(actors=[ActorRecord("a", "k", b"\x90")], appends=[msg(1), msg(2)]))
    await journal.write(Batch(claims=["m1"]))
    cancel_from_outside(journal, path, ["m1", "m2"])
    await journal.write(Batch(claims=["m2"], done=[Done("m1", "a", b"s1", 200.0)]))
    m1, m2 = await journal.message("m1"), await journal.message("m2")
    assert m1 is not None
    assert m2 is not None
    assert (m1.status, m1.done_at, m1.cancelled_by) == ("done", 200.0, "op via test")
    assert (m2.status, m2.attempts) == ("cancelled", 0)  # a claim of a cancelled one: no-op
    actor = await journal.actor("a")
    assert actor is not None
    assert (actor.state, actor.handled) == (b"s1", 1)
    # A failed attempt is recorded, but a cancelled message never becomes a dead letter.
    await journal.write(Batch(failed=[Failed("m2", 3, "boom", "tb", True)]))
    m2 = await journal.message("m2")
    assert m2 is not None
    assert (m2.status, m2.error) == ("cancelled", "boom")
    assert await journal.dead_letters() == []


async def test_j10_compaction_removes_old_cancelled_messages_like_done_ones(
    journal_at: tuple[JournalBackend, Path],
) -> None:
    journal, path = journal_at
    await journal.write(Batch(appends=[msg(1), msg(2), msg(3)]))
    await journal.write(Batch(steps=[StepRecord("m1", "llm", b"r")]))
    cancel_from_outside(journal, path, ["m1"], at=10.0)
    cancel_from_outside(journal, path, ["m2"], at=30.0)
    result = await journal.compact(20.0)
    assert (result.messages, result.steps) == (1, 1)  # m1 and its step
    assert await journal.message("m1") is None
    assert [m.id for m in await journal.pending()] == ["m3"]
    assert (await journal.message("m2")) is not None


async def test_j8_a_schema_3_journal_is_migrated_to_4_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "three.db"
    with sqlite3.connect(path) as conn:
        for version in (1, 2, 3):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
        conn.execute("INSERT INTO actorflow_meta VALUES ('schema_version', '3')")
        conn.execute(
            "INSERT INTO messages (id, recipient, type, body, created_at)"
            " VALUES ('old-1', 'a', 'Add', x'01', 1.0)"
        )
    conn.close()
    backend = SQLiteJournal(path)
    await backend.open()
    try:
        assert await backend.schema_version() == 4
        (old,) = await backend.pending()
        assert (old.id, old.cancelled_at, old.cancelled_by) == ("old-1", None, None)
    finally:
        await backend.close()
    cancel_from_outside(SQLiteJournal(path), path, ["old-1"])
    backend = SQLiteJournal(path)
    await backend.open()
    try:
        assert await backend.pending() == []
        assert (await backend.compact(1e12)).messages == 1
    finally:
        await backend.close()
