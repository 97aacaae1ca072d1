"""SQL that both the running system and other processes (the CLI, scripts) write with.

Outside producers (J11) append a message and a *notice* in one transaction; the running system
takes the notices in and delivers their messages. Compaction (J10) deletes what nothing needs
any more, and is safe beside a running system: it never touches pending or dead messages, and
a step result goes only with its done message.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final, NamedTuple

from ._records import Compacted, MessageRecord, TimerRecord
from ._rows import (
    MESSAGE_COLUMNS,
    REQUEUE,
    TIMER_COLUMNS,
    in_conversation,
    message_row,
    read_message,
    read_timer,
    timer_row,
)

__all__ = [
    "INSERT_MESSAGE",
    "CancelOrder",
    "Cancellation",
    "append_outside",
    "cancel_outside",
    "cancellable",
    "compact",
    "immediate",
    "COUNT_COMPACTABLE",
    "pin",
    "reading",
    "requeue_each",
    "requeue_outside",
]

# ON CONFLICT (id) DO NOTHING makes a repeated id a no-op; unlike INSERT OR IGNORE it still
# raises for a row that breaks any other constraint, so nothing malformed is dropped silently.
INSERT_MESSAGE: Final = (
    "INSERT INTO messages"
    " (id, recipient, type, body, sender, conversation, cause, created_at, attempts, trace)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
)
_NOTICE: Final = "INSERT INTO notices (message_id) VALUES (?)"

# Done messages older than the cutoff, and the steps they recorded; cancelled ones likewise, by
# when they were cancelled. Steps of a message that is gone (compacted before, or never
# committed) go too: nothing can re-run it.
# Messages of a pinned conversation stay, with their steps and turns (R2): a replay needs them.
_NOT_PINNED: Final = "coalesce(conversation, id) NOT IN (SELECT conversation FROM pins)"
_DELETE_STEPS: Final = (
    "DELETE FROM steps WHERE message_id IN (SELECT id FROM messages INDEXED BY messages_done"
    f" WHERE status = 'done' AND done_at < ? AND {_NOT_PINNED})"
    " OR message_id IN (SELECT id FROM messages INDEXED BY messages_cancelled"
    f" WHERE status = 'cancelled' AND cancelled_at < ? AND {_NOT_PINNED})"
    " OR message_id NOT IN (SELECT id FROM messages)"
)
_DELETE_DONE: Final = (
    "DELETE FROM messages INDEXED BY messages_done WHERE status = 'done' AND done_at < ?"
    f" AND {_NOT_PINNED}"
)
_DELETE_CANCELLED: Final = (
    "DELETE FROM messages INDEXED BY messages_cancelled"
    f" WHERE status = 'cancelled' AND cancelled_at < ? AND {_NOT_PINNED}"
)

# Cancelling (`cancel_outside`): pending messages become 'cancelled' with who and when; a
# cancelled timer's row moves into messages as the cancelled message it would have sent, so it
# is kept for the record, and a fire of it racing the cancel appends nothing (its id is taken).
_PENDING_IN: Final = (
    f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE {in_conversation('?1')}"
    " AND status = 'pending' ORDER BY seq"
)
_STATUSES_IN: Final = (
    f"SELECT status, count(*) FROM messages WHERE {in_conversation('?1')} GROUP BY status"
    " ORDER BY status COLLATE BINARY"
)
_TIMERS_IN: Final = (
    f"SELECT {TIMER_COLUMNS} FROM timers WHERE conversation = ? ORDER BY due_at, id COLLATE BINARY"
)
_MESSAGE: Final = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?"
_TIMER: Final = f"SELECT {TIMER_COLUMNS} FROM timers WHERE id = ?"
_CANCEL_PENDING: Final = (
    "UPDATE messages SET status = 'cancelled', cancelled_at = ?, cancelled_by = ?"
    " WHERE id = ? AND status = 'pending'"
)
_CANCELLED_TIMER: Final = (
    "INSERT INTO messages (id, recipient, type, body, sender, conversation, cause, created_at,"
    " attempts, trace, status, cancelled_at, cancelled_by)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'cancelled', ?, ?) ON CONFLICT (id) DO NOTHING"
)
_DELETE_TIMER: Final = "DELETE FROM timers WHERE id = ?"
COUNT_COMPACTABLE: Final = (
    "SELECT (SELECT count(*) FROM messages INDEXED BY messages_done"
    f"  WHERE status = 'done' AND done_at < ?1 AND {_NOT_PINNED})"
    " + (SELECT count(*) FROM messages INDEXED BY messages_cancelled"
    f"  WHERE status = 'cancelled' AND cancelled_at < ?1 AND {_NOT_PINNED}),"
    " (SELECT count(*) FROM steps WHERE message_id IN (SELECT id FROM messages INDEXED BY"
    f"  messages_done WHERE status = 'done' AND done_at < ?1 AND {_NOT_PINNED})"
    "  OR message_id IN (SELECT id FROM messages INDEXED BY messages_cancelled"
    f"  WHERE status = 'cancelled' AND cancelled_at < ?1 AND {_NOT_PINNED})"
    "  OR message_id NOT IN (SELECT id FROM messages))"
)
"""What `compact` would delete (messages, steps) before ``?1``: its statements, counted."""
_PIN: Final = (
    "INSERT INTO pins (conversation, pinned_at) VALUES (?, ?) ON CONFLICT (conversation) DO NOTHING"
)
_UNPIN: Final = "DELETE FROM pins WHERE conversation = ?"


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction (``BEGIN IMMEDIATE``): committed at the end, rolled back on error.

    `conn` must be in autocommit mode (``isolation_level=None``).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def append_outside(conn: sqlite3.Connection, message: MessageRecord) -> int | None:
    """Append `message` from outside the running system, with its notice (J11).

    Returns its seq, or None when a message with its id is already there (nothing written).
    """
    with immediate(conn):
        cursor = conn.execute(INSERT_MESSAGE, message_row(message, time.time()))
        seq = cursor.lastrowid if cursor.rowcount == 1 else None
        if seq is not None:
            conn.execute(_NOTICE, (message.id,))
    return seq


def requeue_outside(conn: sqlite3.Connection, message_id: str) -> bool:
    """Make dead letter `message_id` pending again, with a notice; False if it is not dead."""
    with immediate(conn):
        changed = conn.execute(REQUEUE, (message_id,)).rowcount == 1
        if changed:
            conn.execute(_NOTICE, (message_id,))
    return changed


def requeue_each(conn: sqlite3.Connection, message_ids: Iterable[str]) -> list[str]:
    """Inside the caller's write transaction: make each of `message_ids` that is dead pending
    again, with a notice (J11); return the ids changed, in order."""
    changed = []
    for message_id in message_ids:
        if conn.execute(REQUEUE, (message_id,)).rowcount == 1:
            conn.execute(_NOTICE, (message_id,))
            changed.append(message_id)
    return changed


def compact(conn: sqlite3.Connection, before: float) -> Compacted:
    """Delete done messages that were done before `before` (a Unix time) and their steps (J10).

    Kept: every actor and its state, pending and dead messages, timers, the steps of
    messages that may still run, and every message of a pinned conversation. Runs in one
    transaction.
    """
    with immediate(conn):
        steps = conn.execute(_DELETE_STEPS, (before, before)).rowcount
        messages = conn.execute(_DELETE_DONE, (before,)).rowcount
        messages += conn.execute(_DELETE_CANCELLED, (before,)).rowcount
    return Compacted(messages=messages, steps=steps, before=before)


class CancelOrder(NamedTuple):
    """What `_operations.Writes.cancel` cancels: `cancel_outside`'s keyword arguments."""

    conversation: str | None
    message_id: str | None
    by: str
    at: float
    dry_run: bool


class Cancellation(NamedTuple):
    """What `cancel_outside` found, and cancelled unless it was a dry run."""

    messages: list[MessageRecord]
    """The pending messages, as they were before the cancel, in seq order."""
    timers: list[TimerRecord]
    """The pending timers, soonest first."""
    statuses: dict[str, int]
    """Of a conversation: how many of its messages had each status before the cancel."""
    found: MessageRecord | None
    """Of one id: the message it named, whatever its status (None: a timer, or nothing)."""


def cancel_outside(
    conn: sqlite3.Connection,
    *,
    conversation: str | None = None,
    message_id: str | None = None,
    by: str,
    at: float,
    dry_run: bool = False,
) -> Cancellation:
    """Cancel the pending messages and timers of `conversation`, or the one `message_id`
    names (a message or a timer), with a notice for each (J11); all in one transaction.

    A dry run reads the same in one read transaction and writes nothing.
    """
    with (reading if dry_run else immediate)(conn):
        messages, timers, statuses, found = cancellable(conn.execute, conversation, message_id)
        if not dry_run:
            conn.executemany(_CANCEL_PENDING, [(at, by, m.id) for m in messages])
            conn.executemany(_CANCELLED_TIMER, [(*timer_row(t, at)[:-1], at, by) for t in timers])
            conn.executemany(_DELETE_TIMER, [(t.id,) for t in timers])
            conn.executemany(_NOTICE, [(m.id,) for m in messages] + [(t.id,) for t in timers])
    return Cancellation(messages, timers, statuses, found)


def cancellable(
    rows: Callable[[str, tuple[Any, ...]], Iterable[Any]],
    conversation: str | None,
    message_id: str | None,
) -> Cancellation:
    """What a cancel of `conversation`, or of the one message or timer `message_id`, finds
    pending; `rows` runs a query (in SQLite's dialect) inside the caller's transaction."""
    if conversation is not None:
        return Cancellation(
            [read_message(row) for row in rows(_PENDING_IN, (conversation,))],
            [read_timer(row) for row in rows(_TIMERS_IN, (conversation,))],
            {str(status): int(n) for status, n in rows(_STATUSES_IN, (conversation,))},
            None,
        )
    found = next((read_message(row) for row in rows(_MESSAGE, (message_id,))), None)
    return Cancellation(
        [found] if found is not None and found.status == "pending" else [],
        [read_timer(row) for row in rows(_TIMER, (message_id,))] if found is None else [],
        {},
        found,
    )


@contextmanager
def reading(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction: everything inside reads one committed state of the journal."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def pin(conn: sqlite3.Connection, conversation: str, pinned: bool) -> bool:
    """Pin `conversation` (compaction keeps it whole, R2) or unpin it; False if it already
    was (or was not) pinned."""
    with immediate(conn):
        if pinned:
            return conn.execute(_PIN, (conversation, time.time())).rowcount == 1
        return conn.execute(_UNPIN, (conversation,)).rowcount == 1
