"""Queries written in SQLite's dialect, run on PostgreSQL (C1): the read model's, and the reads
both backends make (`_rows`).

The translation rewrites constant SQL text only, never a value: every value stays a bound
parameter. No psycopg here, so that `PostgresJournal` can use it before its driver is loaded.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

__all__ = ["bind", "postgres_sql"]

_HINT: Final = re.compile(r"\s+INDEXED BY\s+\w+")
_NUMBERED: Final = re.compile(r"\?(\d+)")


@functools.cache
def postgres_sql(sqlite_sql: str) -> str:
    """`sqlite_sql`, a constant query, in PostgreSQL's dialect.

    ``?`` becomes ``%s`` and ``?N`` ``%(pN)s`` (`bind` names the parameters to match);
    ``INDEXED BY`` hints go (PostgreSQL's planner picks the partial indexes by itself);
    ``COLLATE BINARY`` (SQLite's byte order, its default) becomes ``COLLATE "C"``, so that text
    sorts the same in both whatever the database's locale.
    """
    if "%" in sqlite_sql:  # psycopg would read it as a placeholder
        raise ValueError(f"a '%' in a query to translate: {sqlite_sql!r}")
    text = _HINT.sub("", sqlite_sql).replace("COLLATE BINARY", 'COLLATE "C"')
    text = _NUMBERED.sub(r"%(p\1)s", text)
    return text.replace("?", "%s")


def bind(sqlite_sql: str, params: Sequence[Any]) -> Sequence[Any] | Mapping[str, Any]:
    """`params` as `postgres_sql` (sqlite_sql) takes them: by name for ``?N`` parameters."""
    if _NUMBERED.search(sqlite_sql):
        return {f"p{n}": value for n, value in enumerate(params, start=1)}
    return params
