"""The read model's source over a SQLite journal file (`_source.Source`): a read-only
connection (``mode=ro``), so inspecting a journal never blocks the system writing it (WAL) and
never changes the file; and the checked read-write connection of the operators' writes."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from .._errors import JournalCorrupt, JournalError, JournalSchemaError
from ._schema import SCHEMA_VERSION
from ._sqlite_writer import empty_database, empty_file, translate

__all__ = ["BUSY_TIMEOUT", "SQLiteSource", "connect", "file_sizes"]

BUSY_TIMEOUT: Final = 5.0
"""Seconds a read or a write (send, requeue, compact) waits for a lock held by the system."""

_NOTADB: Final = 26  # SQLite's SQLITE_NOTADB: the file is not a database


class SQLiteSource:
    """A read-only connection to the journal file at `path`, checked (`connect`)."""

    def __init__(self, path: Path, *, where_from: str = "") -> None:
        self.path = path
        self.name = str(path)
        self.location = str(path.absolute())
        self._conn = connect(path, "ro", where_from)
        try:
            self.schema_version = check(self._conn, path)
        except BaseException:
            self._conn.close()
            raise

    def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise translate(exc, f"cannot read {self.path}") from exc

    def iterate(self, sql: str) -> Iterator[Any]:
        try:
            cursor = self._conn.execute(sql)
        except sqlite3.Error as exc:
            raise translate(exc, f"cannot read {self.path}") from exc
        while True:
            try:
                rows = cursor.fetchmany(500)
            except sqlite3.Error as exc:
                raise translate(exc, f"cannot read {self.path}") from exc
            if not rows:
                return
            yield from rows

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        if self._conn.in_transaction:
            yield
            return
        self.rows("BEGIN", ())
        try:
            yield
        finally:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("COMMIT")

    def data_version(self) -> int:
        (version,) = self.rows("PRAGMA data_version", ())[0]
        return int(version)

    def sizes(self) -> tuple[int, int]:
        return file_sizes(self.path)

    def close(self) -> None:
        self._conn.close()


def file_sizes(path: Path) -> tuple[int, int]:
    """The sizes in bytes of the journal file and of its WAL file (0 when there is none)."""
    return _size(path), _size(path.with_name(path.name + "-wal"))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def connect(path: Path, mode: str, where_from: str) -> sqlite3.Connection:
    """A connection (autocommit, `BUSY_TIMEOUT`) to the file at `path`, ``mode`` ``ro`` or
    ``rw``; a missing file's error says where its path came from (`where_from`)."""
    if not path.exists():
        raise JournalError(
            f"no journal at {path}{where_from}; pass --journal PATH or set ACTORFLOW_JOURNAL"
        )
    if path.is_dir():
        raise JournalError(f"{path} is a directory; pass the journal file with --journal PATH")
    if not os.access(path, os.R_OK if mode == "ro" else os.R_OK | os.W_OK):
        need = "read" if mode == "ro" else "write"
        raise JournalError(
            f"no permission to {need} {path}; run as the user who owns it (journals are 0600)"
        )
    if path.stat().st_size == 0:
        raise empty_file(path)  # what `actorflow run` and `ActorSystem` say of it too
    # A URI, so that mode=ro holds; the path is quoted, so '?' or '#' in it stay in the name.
    uri = f"file:{quote(str(path.absolute()))}?mode={mode}"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT)
    except sqlite3.Error as exc:
        raise translate(exc, f"cannot open {path}") from exc
    return conn


def check(conn: sqlite3.Connection, path: Path) -> int:
    """Return the journal's schema version, or raise if this actorflow cannot read it."""
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if not tables:
            raise empty_database(path)
        if "actorflow_meta" not in tables:
            raise JournalSchemaError(
                f"{path} is a SQLite database but not an actorflow journal (it has no"
                " actorflow_meta table); check the --journal path"
            )
        rows = conn.execute(
            "SELECT value FROM actorflow_meta WHERE key = 'schema_version'"
        ).fetchall()
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorcode", None) == _NOTADB:
            raise JournalSchemaError(
                f"{path} is not a SQLite database, so not an actorflow journal;"
                " check the --journal path"
            ) from exc
        raise translate(exc, f"cannot read {path}") from exc
    try:
        version = int(rows[0][0])
    except (IndexError, TypeError, ValueError):
        raise JournalCorrupt(
            f"{path}: actorflow_meta has no readable schema_version; the journal is damaged,"
            " restore it from a backup"
        ) from None
    if version > SCHEMA_VERSION:
        raise JournalSchemaError(
            f"{path} was written by a newer actorflow (journal schema {version}, this actorflow"
            f" reads up to {SCHEMA_VERSION}); upgrade actorflow to read it"
        )
    if version < SCHEMA_VERSION:
        raise JournalSchemaError(
            f"{path} has journal schema {version}, older than this actorflow's"
            f" {SCHEMA_VERSION}; start an ActorSystem on it once to migrate it"
        )
    missing = {"actors", "messages"} - tables
    if missing:
        raise JournalCorrupt(
            f"{path} has no {' or '.join(sorted(missing))} table; the journal is damaged,"
            " restore it from a backup"
        )
    return version
