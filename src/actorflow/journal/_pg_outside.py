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

__all__ = ["append_outside"]


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
            cur = conn.execute(sql.APPEND, sql.append_columns([message], time.time()))
            row = cur.fetchone()
            if row is not None:
                conn.execute(sql.NOTICE, (message.id,))
        if row is not None and notify:
            conn.execute("SELECT pg_notify(%s, '')", (sql.CHANNEL,))
    except psycopg.Error as exc:
        raise translate(exc, "cannot append a message to the PostgreSQL journal") from exc
    return None if row is None else int(row[1])  # type: ignore[index]
