"""Which backend a journal argument names: a ``postgresql://`` URL or a SQLite file's path."""

from __future__ import annotations

import os

from ._backend import JournalBackend
from ._postgres import PostgresJournal, is_postgres_url
from ._sqlite import SQLiteJournal

__all__ = ["backend_for"]


def backend_for(journal: str | os.PathLike[str], *, node: str | None = None) -> JournalBackend:
    """A `PostgresJournal` for a ``postgresql://`` (or ``postgres://``) URL (joined as `node`
    by a system, C2), else a `SQLiteJournal` for the path."""
    if is_postgres_url(journal):
        return PostgresJournal(str(journal), node=node)
    return SQLiteJournal(journal)
