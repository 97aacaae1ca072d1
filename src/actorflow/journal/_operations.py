"""Operators' writes to a journal: append a message, requeue dead letters, cancel a
conversation or a message, compact, pin; on a SQLite file or a PostgreSQL journal (C1).

Shared by the CLI and the web UI.

Each is one short transaction on its own read-write connection, checked to be a journal: on
SQLite ``BEGIN IMMEDIATE``, which waits up to `BUSY_TIMEOUT` for the running system's write
lock; on PostgreSQL one transaction under the appends' advisory lock (`_pg_operations`).
Appends and requeues leave a notice beside the message (J11), the runtime's own statements, so
that a running system takes the message in once the command wakes it (`wake`: a datagram to a
SQLite journal's system, a NOTIFY after the commit on PostgreSQL); so do cancels, so that it
drops what was cancelled from its mailboxes and disarms the timers.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, NamedTuple, Protocol

import msgspec

from .._errors import JournalError, MessageNotFound, MessageStatusError
from ._reader import DeadLetterFilters, is_postgres_url, open_writable, unknown_message
from ._records import Compacted, MessageRecord, TimerRecord
from ._rows import MESSAGE_COLUMNS, read_message
from ._sqlite_writer import translate
from ._statements import (
    Cancellation,
    CancelOrder,
    append_outside,
    cancel_outside,
    compact,
    immediate,
    pin,
    requeue_each,
    requeue_outside,
)
from ._wake import wake as wake_sqlite

__all__ = [
    "Appended",
    "Cancelled",
    "append",
    "cancel",
    "compact_before",
    "not_dead",
    "pin_conversation",
    "requeue",
    "requeue_dead",
    "wake",
]


class Appended(NamedTuple):
    """What `append` did: the message as the journal holds it, and whether it was there."""

    record: MessageRecord
    duplicate: bool
    """True when a message with its id was in the journal already: nothing was written."""


def append(journal: Path | str, record: MessageRecord, *, where_from: str = "") -> Appended:
    """Append `record` from outside the system, with its notice; idempotent by id (J11).

    `journal` is a path or a ``postgresql://`` URL. Raises `JournalLocked` if the system held
    the write lock longer than `BUSY_TIMEOUT`.
    """
    with writing(journal, where_from, "append a message") as w:
        seq = w.append(record)
        if seq is not None:
            return Appended(w.message(record.id) or record, duplicate=False)
        stored = w.message(record.id)
        if stored is None:  # compacted in between; the id was there a moment ago
            raise JournalError(
                f"message {record.id!r} was in {w.name} but is gone (compacted): nothing was"
                " appended; send it again to append it"
            )
        return Appended(stored, duplicate=True)


def requeue(journal: Path | str, message_id: str, *, where_from: str = "") -> MessageRecord:
    """Make the dead letter `message_id` pending again with no attempts and a notice (S7, J11);
    return it as it was.

    The update is the runtime's `requeue_outside`, one transaction that changes the message only
    while it is dead; the check before it says why when it is not. Raises `MessageNotFound` if
    no message has the id, `MessageStatusError` if it is not dead, `JournalLocked` if a writer
    held the write lock for longer than `BUSY_TIMEOUT`.
    """
    with writing(journal, where_from, "requeue") as w:
        before = w.message(message_id)
        if before is None:
            raise unknown_message(journal, message_id)
        if before.status == "dead" and w.requeue(message_id):
            return before
        now = w.message(message_id)
        raise not_dead(message_id, before.status if now is None else now.status)


def not_dead(message_id: str, status: str) -> MessageStatusError:
    """The error for a requeue of a message that is not a dead letter."""
    return MessageStatusError(
        f"message {message_id!r} is {status}, not dead; only dead letters can be requeued"
        " (list them with: actorflow journal dead)"
    )


def requeue_dead(
    journal: Path | str, filters: DeadLetterFilters, *, where_from: str = ""
) -> list[MessageRecord]:
    """Make every dead letter `filters` selects pending again, with its attempts reset and a
    notice (S7, J11); return them, in seq order, as they were.

    One transaction selects and requeues them, so the answer is exactly what changed: a dead
    letter that died after it, or was requeued before it, is not among them. Raises
    `JournalLocked` if a writer held the write lock for longer than `BUSY_TIMEOUT`.
    """
    with writing(journal, where_from, "requeue") as w:
        return w.requeue_dead(filters)


class Cancelled(msgspec.Struct, frozen=True, kw_only=True):
    """What `cancel` cancelled (or, in a dry run, would cancel)."""

    target: str
    """The conversation id or the message (or timer) id that was asked for."""
    kind: Literal["conversation", "message", "timer"]
    messages: list[MessageRecord]
    """The pending messages cancelled, as they were just before (``status`` still pending).
    One with ``attempts`` > 0 had an attempt started: if its handler is running at the
    cancel, it finishes and ends done (its turn commits whole, J3)."""
    timers: list[TimerRecord]
    """The pending timers cancelled (each kept as a cancelled message under its id)."""
    statuses: dict[str, int]
    """Of a conversation: how many of its messages had each status before the cancel. Of one
    message: its status (one entry)."""
    by: str
    """Who cancelled, and from where (``"alice via cli"``)."""
    at: float
    dry_run: bool
    woken: bool = False
    """Whether a system running on the journal was woken to notice at once (J11); one that
    was not notices within a second (its own check)."""

    @property
    def count(self) -> int:
        """How many messages and timers were (or would be) cancelled."""
        return len(self.messages) + len(self.timers)

    @property
    def started(self) -> list[MessageRecord]:
        """The cancelled messages that had an attempt started (claimed) before the cancel."""
        return [m for m in self.messages if m.attempts]


def cancel(
    journal: Path | str,
    *,
    conversation: str | None = None,
    message_id: str | None = None,
    by: str,
    dry_run: bool = False,
    wake: bool = True,
    where_from: str = "",
) -> Cancelled:
    """Cancel the pending messages and timers of `conversation`, or the one pending message
    or timer `message_id` names: each becomes ``cancelled``, with `by` and the time, and is
    never handled; it stays in the journal until compacted like a done message (J10).

    One transaction, with a notice for each (J11); then, with `wake`, the system running on
    the journal is woken, and drops them from its mailboxes and disarms the timers. A message
    whose handler is already running finishes and ends done (J3). With `dry_run`, nothing is
    written. Nothing pending is not an error: the result has `count` 0. `by` says who cancels
    and from where (``"alice via cli"``); it is stored with each message.

    Raises `MessageNotFound` if no conversation (or message, or timer) has the id,
    `JournalLocked` if a writer held the write lock for longer than `BUSY_TIMEOUT`.
    """
    target = conversation if message_id is None else message_id
    if target is None or (conversation is not None and message_id is not None):
        raise ValueError("cancel takes a conversation or a message_id, not both or neither")
    at = time.time()
    with writing(journal, where_from, "cancel") as w:
        found = w.cancel(CancelOrder(conversation, message_id, by, at, dry_run))
        if conversation is not None and not found.statuses and not found.timers:
            raise _no_conversation(w, conversation)
        woken = bool(wake and not dry_run and (found.messages or found.timers) and w.wake())
    if message_id is not None:
        if found.found is None and not found.timers:
            raise MessageNotFound(
                f"no message or timer with id {message_id!r} in {w.name}; find ids with:"
                " actorflow journal messages"
            )
        kind: Literal["conversation", "message", "timer"] = (
            "message" if found.found is not None else "timer"
        )
        statuses: dict[str, int] = {} if found.found is None else {found.found.status: 1}
    else:
        kind, statuses = "conversation", found.statuses
    return Cancelled(
        target=target,
        kind=kind,
        messages=found.messages,
        timers=found.timers,
        statuses=statuses,
        by=by,
        at=at,
        dry_run=dry_run,
        woken=woken,
    )


def _no_conversation(w: Writes, key: str) -> MessageNotFound:
    """The error for a conversation id that names none; says so if it is a message's id."""
    message = w.message(key)
    if message is not None:
        inside = (
            f" in conversation {message.conversation}: cancel that with: actorflow journal"
            f" cancel {message.conversation};"
            if message.conversation is not None
            else ";"
        )
        return MessageNotFound(
            f"{key!r} is not a conversation id in {w.name} but a message{inside} cancel only the"
            f" message with: actorflow journal cancel --message {key}"
        )
    return MessageNotFound(
        f"no conversation with id {key!r} in {w.name}; find ids with: actorflow journal messages"
    )


def compact_before(journal: Path | str, before: float, *, where_from: str = "") -> Compacted:
    """Delete the messages done (or cancelled) before `before` (a UNIX time) and their step
    results (J10).

    Safe beside a running system: pending and dead messages, actors and their states stay.
    """
    with writing(journal, where_from, "compact") as w:
        return w.compact(before)


def pin_conversation(
    journal: Path | str, conversation: str, pinned: bool = True, *, where_from: str = ""
) -> bool:
    """Pin `conversation` so that compaction keeps all of it (R2: it stays replayable), or
    unpin it. Returns False when it already was (or was not) pinned.

    Raises `MessageNotFound` when pinning a conversation the journal does not hold (its first
    message, whose id names it, is not there).
    """
    with writing(journal, where_from, "pin" if pinned else "unpin") as w:
        if pinned and w.message(conversation) is None:
            raise MessageNotFound(
                f"no conversation {conversation!r} in {w.name} (a conversation is named by the"
                " id of its first message; it may have been compacted)"
            )
        return w.pin(conversation, pinned)


def wake(journal: Path | str) -> bool:
    """Tell the system running on `journal`, if any, to look for notices (J11); True if sent.

    To a SQLite journal's system a datagram (False when none listens); on PostgreSQL a NOTIFY,
    which every system listening on the database receives (True once sent).
    """
    if not is_postgres_url(journal):
        return wake_sqlite(Path(journal))
    from ._pg_operations import notify

    return notify(str(journal))


class Writes(Protocol):
    """What the operations need of a journal's engine: each call one transaction (with its
    notices, J11), committed when it returns."""

    name: str
    """The journal as messages name it: its path, or its URL without the password."""

    def message(self, message_id: str) -> MessageRecord | None: ...

    def append(self, record: MessageRecord) -> int | None:
        """Append `record` with its notice; its seq, or None if its id was there (J11)."""
        ...

    def requeue(self, message_id: str) -> bool:
        """Make dead letter `message_id` pending again, with a notice; False if not dead."""
        ...

    def requeue_dead(self, filters: DeadLetterFilters) -> list[MessageRecord]:
        """Requeue the dead letters `filters` selects; those changed, as they were, in order."""
        ...

    def cancel(self, order: CancelOrder) -> Cancellation:
        """As `_statements.cancel_outside`: what was pending, cancelled unless a dry run."""
        ...

    def compact(self, before: float) -> Compacted: ...

    def pin(self, conversation: str, pinned: bool) -> bool: ...

    def wake(self) -> bool:
        """After a write: wake the system running on the journal, as `wake` does."""
        ...

    def close(self) -> None: ...


@contextlib.contextmanager
def writing(journal: Path | str, where_from: str, doing: str) -> Iterator[Writes]:
    """The checked read-write `Writes` of `journal` (a path or a ``postgresql://`` URL)."""
    if is_postgres_url(journal):
        try:
            from ._pg_operations import PostgresWrites
        except ImportError as exc:
            raise JournalError(
                f"a PostgreSQL journal needs psycopg, which is not installed ({exc}); install"
                " it with: pip install 'actorflow[postgres]'"
            ) from exc
        w: Writes = PostgresWrites(str(journal), doing)
    else:
        w = _SQLiteWrites(Path(journal), where_from, doing)
    try:
        yield w
    finally:
        w.close()


class _SQLiteWrites:
    """`Writes` on a journal file: the runtime's own statements (`_statements`), each call
    one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, path: Path, where_from: str, doing: str) -> None:
        self.path = path
        self.name = str(path)
        self._doing = doing
        self._conn = open_writable(path, where_from=where_from)

    @contextlib.contextmanager
    def _translated(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._conn
        except sqlite3.Error as exc:
            raise translate(exc, f"cannot {self._doing} in {self.path}") from exc

    def message(self, message_id: str) -> MessageRecord | None:
        with self._translated() as conn:
            rows = conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
            ).fetchall()
        return read_message(rows[0]) if rows else None

    def append(self, record: MessageRecord) -> int | None:
        with self._translated() as conn:
            return append_outside(conn, record)

    def requeue(self, message_id: str) -> bool:
        with self._translated() as conn:
            return requeue_outside(conn, message_id)

    def requeue_dead(self, filters: DeadLetterFilters) -> list[MessageRecord]:
        sql, params = filters.query()
        with self._translated() as conn, immediate(conn):
            found = [read_message(row) for row in conn.execute(sql, params).fetchall()]
            changed = set(requeue_each(conn, [m.id for m in found]))
        return [m for m in found if m.id in changed]

    def cancel(self, order: CancelOrder) -> Cancellation:
        with self._translated() as conn:
            return cancel_outside(conn, **order._asdict())

    def compact(self, before: float) -> Compacted:
        with self._translated() as conn:
            return compact(conn, before)

    def pin(self, conversation: str, pinned: bool) -> bool:
        with self._translated() as conn:
            return pin(conn, conversation, pinned)

    def wake(self) -> bool:
        return wake_sqlite(self.path)

    def close(self) -> None:
        self._conn.close()
