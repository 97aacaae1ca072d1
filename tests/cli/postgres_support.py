"""The same history in a PostgreSQL journal as in a SQLite one (C1): a SQLite journal copied
row by row, its seqs, numbers and times kept, into a fresh PostgreSQL journal.

The schema is made by `PostgresJournal` itself (opened once, closed); the rows are then copied
as they are, so that every command can be run on both and their outputs compared.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import psycopg

from actorflow.journal import PostgresJournal

__all__ = ["copy_to_postgres"]

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
