"""Operators' writes to a PostgreSQL journal (`_operations.Writes`, C1, J11).

One checked autocommit connection (`_pg_connect.connect`); each call is one transaction, with
the runtime's own statements (`_pg_statements`) and their notices. Whatever makes a message
pending or takes a seq (an append, a requeue, a cancelled timer) holds the appends' advisory
lock, as the running system's writer does, so that a reader paging by seq never finds a lower
seq committed later. The wake-up (`wake`, `notify`) is a NOTIFY sent after the commit, outside
any transaction: inside one it would serialise commits on the notification queue's lock.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any, Final

import psycopg

from . import _pg_asks as asks
from . import _pg_statements as sql
from ._pg_connect import connect, shown
from ._pg_dialect import bind, postgres_sql
from ._pg_errors import translate
from ._pg_outside import append_outside, cancel_outside
from ._reader import DeadLetterFilters
from ._records import Compacted, MessageRecord
from ._rows import MESSAGE_COLUMNS, read_message
from ._statements import Cancellation, CancelOrder, cancellable

__all__ = ["PostgresWrites", "notify"]

_LOCK: Final = "SELECT pg_advisory_xact_lock(%s)"
# The NOTIFY, and whether any other session of the database listens for it: a running
# system's listener (`PostgresJournal`), whose last statement stays its LISTEN while it waits.
# Only sessions of the same role (or with pg_read_all_stats) show their statement.
_NOTIFY: Final = (
    "SELECT pg_notify(%(channel)s, ''), EXISTS (SELECT 1 FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    " AND query = 'LISTEN ' || %(channel)s)"
)
_MESSAGE: Final = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = %s"
_SNAPSHOT: Final = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"


def notify(url: str) -> bool:
    """Wake the systems running on the journal at `url` (J11): a NOTIFY, sent whether or not
    one listens; True if a system listens for it."""
    conn, _ = connect(url, read_only=False)
    try:
        return _notify(conn)
    except psycopg.Error as exc:
        raise translate(exc, f"cannot notify {shown(url)}") from exc
    finally:
        conn.close()


def _notify(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(_NOTIFY, {"channel": sql.CHANNEL}).fetchone()
    return bool(row is not None and row[1])


class PostgresWrites:
    """`_operations.Writes` on the PostgreSQL journal at `url`, for an operation `doing`."""

    def __init__(self, url: str, doing: str) -> None:
        self.name = shown(url)
        self._doing = doing
        self._conn, _ = connect(url, read_only=False)

    @contextlib.contextmanager
    def _translated(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            yield self._conn
        except psycopg.Error as exc:
            raise translate(exc, f"cannot {self._doing} in {self.name}") from exc

    def message(self, message_id: str) -> MessageRecord | None:
        with self._translated() as conn:
            row = conn.execute(_MESSAGE, (message_id,)).fetchone()
        return None if row is None else read_message(row)

    def append(self, record: MessageRecord) -> int | None:
        return append_outside(self._conn, record, notify=False)  # `wake` notifies

    def requeue(self, message_id: str) -> bool:
        with self._translated() as conn, conn.transaction():
            return self._requeue(conn, message_id)

    def requeue_dead(self, filters: DeadLetterFilters) -> list[MessageRecord]:
        query, params = filters.query()
        with self._translated() as conn, conn.transaction():
            conn.execute(_LOCK, (sql.APPEND_LOCK,))
            rows = conn.execute(postgres_sql(query), bind(query, params)).fetchall()
            found = [read_message(row) for row in rows]
            return [m for m in found if self._requeue(conn, m.id)]

    @staticmethod
    def _requeue(conn: psycopg.Connection[Any], message_id: str) -> bool:
        """Inside the caller's transaction: requeue `message_id` if dead, with its notice."""
        conn.execute(_LOCK, (sql.APPEND_LOCK,))  # it becomes pending below the newest seq
        if conn.execute(sql.REQUEUE, (message_id,)).rowcount != 1:
            return False
        conn.execute(sql.NOTICE, (message_id,))
        return True

    def cancel(self, order: CancelOrder) -> Cancellation:
        with self._translated() as conn, conn.transaction():
            if order.dry_run:
                conn.execute(_SNAPSHOT)
            else:  # nothing appends (a timer's fire) between the reads and the cancel
                conn.execute(_LOCK, (sql.APPEND_LOCK,))
            messages, timers, statuses, found = cancellable(
                lambda query, params: conn.execute(postgres_sql(query), bind(query, params)),
                order.conversation,
                order.message_id,
            )
            if not order.dry_run:
                ids = [m.id for m in messages] + [t.id for t in timers]
                done = set(cancel_outside(conn, ids, by=order.by, at=order.at, notify=False))
                # Under READ COMMITTED a message read pending may have been handled since.
                messages = [m for m in messages if m.id in done]
                timers = [t for t in timers if t.id in done]
        return Cancellation(messages, timers, statuses, found)

    def compact(self, before: float) -> Compacted:
        with self._translated() as conn, conn.transaction():
            steps = conn.execute(sql.DELETE_STEPS, {"before": before}).rowcount
            messages = conn.execute(sql.DELETE_DONE, {"before": before}).rowcount
            there = conn.execute("SELECT to_regclass('actorflow_asks')").fetchone()
            if there is not None and there[0] is not None:  # cluster version 2 on (C4)
                conn.execute(asks.SWEEP_ASKS)  # asks of dead askers, and their replies
                conn.execute(asks.SWEEP_REPLIES)
        return Compacted(messages=messages, steps=steps, before=before)

    def pin(self, conversation: str, pinned: bool) -> bool:
        with self._translated() as conn:
            if pinned:
                cur = conn.execute(sql.PIN, (conversation, time.time()))
            else:
                cur = conn.execute(sql.UNPIN, (conversation,))
        return cur.rowcount == 1

    def wake(self) -> bool:
        with self._translated() as conn:
            return _notify(conn)

    def close(self) -> None:
        self._conn.close()
