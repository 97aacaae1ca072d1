"""The read model's source over a PostgreSQL journal (`_source.Source`, C1).

One connection, read-only on the server (`_pg_connect.connect`); a snapshot is one
``REPEATABLE READ, READ ONLY`` transaction. The reader's queries are written in SQLite's
dialect and translated once each (`_pg_dialect.postgres_sql`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, Final

import psycopg

from ._pg_connect import connect, shown
from ._pg_dialect import bind, postgres_sql
from ._pg_errors import translate

__all__ = ["PostgresSource"]

# The size of the journal: its tables with their indexes and TOAST, in the journal's schema.
_SIZE: Final = (
    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class AS c"
    " JOIN pg_namespace AS n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
)
# The snapshot's xmax: one past the newest transaction that finished (committed or not).
_VERSION: Final = "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint"


class PostgresSource:
    """A read-only connection to the PostgreSQL journal at `url`, checked."""

    def __init__(self, url: str) -> None:
        self.name = self.location = shown(url)
        self._conn, self.schema_version = connect(url, read_only=True)
        self._in_snapshot = False

    def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        try:
            return self._conn.execute(postgres_sql(sql), bind(sql, params)).fetchall()
        except psycopg.Error as exc:
            raise translate(exc, f"cannot read {self.name}") from exc

    def iterate(self, sql: str) -> Iterator[Any]:
        # A server-side cursor (rows come as they are read), which lives in a transaction.
        try:
            with self.snapshot(), self._conn.cursor(name="actorflow_reader") as cursor:
                cursor.execute(postgres_sql(sql))
                while rows := cursor.fetchmany(500):
                    yield from rows
        except psycopg.Error as exc:
            raise translate(exc, f"cannot read {self.name}") from exc

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        if self._in_snapshot:
            yield
            return
        try:
            with self._conn.transaction():  # read only: its end commits nothing
                self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                self._in_snapshot = True
                try:
                    yield
                finally:
                    self._in_snapshot = False
        except psycopg.Error as exc:
            raise translate(exc, f"cannot read {self.name}") from exc

    def data_version(self) -> int:
        return int(self.rows(_VERSION, ())[0][0])

    def sizes(self) -> tuple[int, int]:
        return int(self.rows(_SIZE, ())[0][0]), 0

    def close(self) -> None:
        self._conn.close()
