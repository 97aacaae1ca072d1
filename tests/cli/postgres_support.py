"""Helpers of the tests on PostgreSQL journals (C1).

`copy_to_postgres`: the same history in a PostgreSQL journal as in a SQLite one, a SQLite
journal copied row by row (its seqs, numbers and times kept) into a fresh PostgreSQL journal
whose schema `PostgresJournal` itself made, so that every command can be run on both and their
outputs compared. `listening`: wait until a system running on a journal can be woken.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import anyio.to_thread
import psycopg

from actorflow.journal import PostgresJournal, journal_name

__all__ = ["copy_to_postgres", "listening"]

# Each table: the order its rows go in (PostgreSQL numbers actors and pins in that order), and
# the identity column whose values are kept, if any.
_TABLES = {
    "actors": ("rowid", None),
    "messages": ("seq", "seq"),
    "steps": ("message_id, step", None),
    "timers": ("id", None),
    "notices": ("number", "number"),
    "pins": ("pinned_at", None),
}


async def _create(url: str) -> None:
    backend = PostgresJournal(url)
    await backend.open()
    await backend.close()


def copy_to_postgres(source: Path, url: str) -> str:
    """Copy the closed SQLite journal `source` into a new PostgreSQL journal at `url` (an
    empty database or schema); return `url`."""
    anyio.run(_create, url)
    lite = sqlite3.connect(source)
    try:
        with psycopg.connect(url) as conn, conn.transaction():
            conn.execute("DELETE FROM actorflow_writers")
            for table, (order, identity) in _TABLES.items():
                columns = [row[1] for row in lite.execute(f"PRAGMA table_info({table})")]
                rows = lite.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
                marks = ", ".join(["%s"] * len(columns))
                overriding = "" if identity is None else " OVERRIDING SYSTEM VALUE"
                insert = f"INSERT INTO {table} ({', '.join(columns)}){overriding} VALUES ({marks})"
                with conn.cursor() as cur:
                    cur.executemany(insert, rows.fetchall())  # type: ignore[arg-type]
                if identity is not None:
                    conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', '{identity}'),"
                        f" (SELECT coalesce(max({identity}), 0) + 1 FROM {table}), false)"
                    )  # type: ignore[call-overload]
    finally:
        lite.close()
    return url


async def listening(journal: str) -> None:
    """Return once a system running on `journal` can be woken: at once for a SQLite file (its
    socket is bound before the system starts), for PostgreSQL once its listener's LISTEN ran."""
    if journal_name(journal) == journal:  # a file's path
        return

    def look() -> bool:
        with psycopg.connect(journal, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND query = 'LISTEN actorflow_notices'"
            ).fetchone()
        return row is not None and row[0] > 0

    with anyio.fail_after(10):
        # Another process's session: no event to wait on, so polled, bounded.
        while not await anyio.to_thread.run_sync(look):  # noqa: ASYNC110
            await anyio.sleep(0.02)
