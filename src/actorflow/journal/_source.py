"""The read model's port: what `JournalReader` needs of a journal's engine (C1).

`JournalReader` writes its queries once, in SQLite's dialect (``?`` parameters, ``INDEXED BY``
hints, ``COLLATE BINARY`` where text decides an order); a source runs them on its engine: the
SQLite file as it is (`_sqlite_source`), a PostgreSQL journal translated (`_pg_source`). Every
value is bound as a parameter in both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

__all__ = ["Source"]


class Source(Protocol):
    """A read-only connection to a journal checked to be one this actorflow reads."""

    name: str
    """The journal as messages name it: its path, or its URL without the password."""
    location: str
    """The journal as `JournalReader.stats` shows it: the absolute path, or `name`."""
    schema_version: int

    def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Every row of `sql`; raises `JournalError` subclasses."""
        ...

    def iterate(self, sql: str) -> Iterator[Any]:
        """The rows of `sql` a few hundred at a time (a journal may not fit in memory)."""
        ...

    def snapshot(self) -> AbstractContextManager[None]:
        """Read everything inside from one committed state (nested: the outer one's)."""
        ...

    def data_version(self) -> int:
        """A number that changes whenever another connection commits to the journal."""
        ...

    def sizes(self) -> tuple[int, int]:
        """The bytes the journal takes, and those of its write-ahead file (0 if none)."""
        ...

    def close(self) -> None: ...
