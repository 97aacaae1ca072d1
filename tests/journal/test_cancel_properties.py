"""`actorflow.journal.cancel` against a model, over journals Hypothesis makes (J10, J11).

Whatever messages (in a few conversations, pending, done or dead) and timers a journal holds,
cancelling a conversation or one id changes exactly the pending messages and timers it names,
each with a notice, in one transaction; a dry run, and a second cancel, change nothing.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actorflow import MessageNotFound
from actorflow.journal import (
    Batch,
    Done,
    Failed,
    MessageRecord,
    SQLiteJournal,
    TimerRecord,
    cancel,
)

CONVERSATIONS = ["c1", "c2", "c3"]

messages = st.lists(
    st.tuples(
        st.sampled_from(CONVERSATIONS),
        st.sampled_from(["pending", "done", "dead"]),
        st.integers(0, 2),  # attempts started
    ),
    max_size=12,
)
timers = st.lists(st.sampled_from(CONVERSATIONS), max_size=4)
targets = st.one_of(
    st.sampled_from([*CONVERSATIONS, "nobody"]).map(lambda c: ("conversation", c)),
    st.sampled_from([f"m{i}" for i in range(14)] + ["t0", "t1", "t9"]).map(
        lambda m: ("message_id", m)
    ),
)


async def _write(path: Path, rows: list[tuple[str, str, int]], due: list[str]) -> None:
    journal = SQLiteJournal(path)
    await journal.open()
    try:
        records = [
            MessageRecord(f"m{i}", "a", "T", b"\x01", conversation=c, attempts=n)
            for i, (c, _, n) in enumerate(rows)
        ]
        await journal.write(Batch(appends=records))
        await journal.write(
            Batch(
                done=[Done(f"m{i}", "a", None, 5.0) for i, r in enumerate(rows) if r[1] == "done"],
                failed=[
                    Failed(f"m{i}", 1, "boom", None, True)
                    for i, r in enumerate(rows)
                    if r[1] == "dead"
                ],
                timers=[
                    TimerRecord(MessageRecord(f"t{i}", "a", "T", b"\x02", conversation=c), 9.0)
                    for i, c in enumerate(due)
                ],
            )
        )
    finally:
        await journal.close()


def _state(path: Path) -> tuple[dict[str, Any], list[str], list[str]]:
    with sqlite3.connect(path) as conn:
        found = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT id, status, conversation, cancelled_by, attempts FROM messages"
            )
        }
        timer_ids = [row[0] for row in conn.execute("SELECT id FROM timers ORDER BY id")]
        notices = [row[0] for row in conn.execute("SELECT message_id FROM notices ORDER BY number")]
    conn.close()
    return found, timer_ids, notices


@settings(max_examples=40, deadline=None)
@given(rows=messages, due=timers, target=targets, dry_run=st.booleans())
def test_cancel_changes_exactly_what_is_pending_in_its_target(
    rows: list[tuple[str, str, int]], due: list[str], target: tuple[str, str], dry_run: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.db"
        anyio.run(_write, path, rows, due)
        before, timers_before, notices_before = _state(path)
        kind, key = target
        timer_conversation = {f"t{i}": c for i, c in enumerate(due)}
        if kind == "conversation":
            pending = sorted(
                (m for m, (s, c, *_) in before.items() if s == "pending" and c == key),
                key=lambda m: int(m[1:]),
            )
            expect_timers = [t for t in timers_before if timer_conversation[t] == key]
            known = any(c == key for _, c, *_ in before.values()) or expect_timers
        else:
            found = before.get(key)
            pending = [key] if found is not None and found[0] == "pending" else []
            expect_timers = [key] if found is None and key in timers_before else []
            known = found is not None or expect_timers
        if not known:
            with pytest.raises(MessageNotFound):
                cancel(path, **{kind: key}, by="prop", dry_run=dry_run)  # type: ignore[arg-type]
            assert _state(path) == (before, timers_before, notices_before)
            return
        done = cancel(path, **{kind: key}, by="prop", dry_run=dry_run)  # type: ignore[arg-type]
        assert [m.id for m in done.messages] == pending
        assert sorted(t.id for t in done.timers) == sorted(expect_timers)
        assert all(m.status == "pending" for m in done.messages)
        after, timers_after, notices_after = _state(path)
        if dry_run:
            assert (after, timers_after, notices_after) == (before, timers_before, notices_before)
            return
        cancelled = set(pending) | set(expect_timers)
        for message_id, row in after.items():
            if message_id in cancelled:
                assert (row[0], row[2]) == ("cancelled", "prop")
            else:
                assert row == before[message_id]  # nothing else changed
        assert set(after) == set(before) | set(expect_timers)  # timers kept as messages
        assert timers_after == [t for t in timers_before if t not in expect_timers]
        assert sorted(notices_after) == sorted([*notices_before, *cancelled])
        again = cancel(path, **{kind: key}, by="prop")  # type: ignore[arg-type]
        assert again.count == 0
        assert _state(path) == (after, timers_after, notices_after)
