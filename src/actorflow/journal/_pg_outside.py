"""Appending to a PostgreSQL journal from outside the running system (J11): the CLI, scripts.

The message and its notice go in one transaction, under the same advisory lock as the
writer's appends (so seqs commit in order); the running system is notified only after the
commit, outside any transaction of its own writer.
"""

from __future__ import annotations

import time

import psycopg

from . import _pg_statements as sql
from ._pg_errors import translate
from ._records import MessageRecord

__all__ = ["append_outside", "cancel_outside"]


def append_outside(
    conn: psycopg.Connection[object], message: MessageRecord, *, notify: bool = True
) -> int | None:
    """Append `message` with its notice and (if `notify`) notify the running system; return
    its seq, or None when a message with its id is already there (nothing written).

    `conn` is in autocommit mode. Raises `JournalError` subclasses.
    """
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (sql.APPEND_LOCK,))
            cur = conn.execute(sql.APPEND, sql.append_params([message], time.time()))
            row = cur.fetchone()
            if row is not None:
                conn.execute(sql.NOTICE, (message.id,))
        if row is not None and notify:
            conn.execute("SELECT pg_notify(%s, '')", (sql.CHANNEL,))
    except psycopg.Error as exc:
        raise translate(exc, "cannot append a message to the PostgreSQL journal") from exc
    return None if row is None else int(row[1])  # type: ignore[index]


def cancel_outside(
    conn: psycopg.Connection[object],
    message_ids: list[str],
    *,
    by: str,
    at: float,
    notify: bool = True,
) -> list[str]:
    """Cancel the pending messages and timers `message_ids` name, with a notice for each, in
    one transaction, then (if `notify`) notify the running system (J11); return the ids
    cancelled, in order. A message that is not pending, or an id naming nothing, is left.

    A cancelled timer becomes the cancelled message it would have sent (under the appends'
    lock: it takes a seq). `conn` is in autocommit mode. Raises `JournalError` subclasses.
    """
    cancelled: list[str] = []
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (sql.APPEND_LOCK,))
            for message_id in message_ids:
                if conn.execute(sql.CANCEL_PENDING, (at, by, message_id)).fetchone() is None:
                    cur = conn.execute(sql.CANCELLED_TIMER, (message_id, at, by))
                    if cur.fetchone() is None:
                        continue
                conn.execute(sql.NOTICE, (message_id,))
                cancelled.append(message_id)
        if cancelled and notify:
            conn.execute("SELECT pg_notify(%s, '')", (sql.CHANNEL,))
    except psycopg.Error as exc:
        raise translate(exc, "cannot cancel in the PostgreSQL journal") from exc
    return cancelled
