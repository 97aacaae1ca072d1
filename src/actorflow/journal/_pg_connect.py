"""Short connections to a PostgreSQL journal from outside the running system (C1, J11): the
CLI's commands, the web UI, scripts.

Plain psycopg (sync: a command waits for its answer anyway), autocommit, checked to hold a
journal this actorflow reads before anything else runs on it. A database without one is
refused untouched, never made a journal: a command on it is a mistake in the URL. A read-only
connection is read-only on the server too (``default_transaction_read_only``), as SQLite's
``mode=ro`` is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from .._errors import JournalCorrupt, JournalError, JournalSchemaError
from ._schema import SCHEMA_VERSION

if TYPE_CHECKING:
    import psycopg

__all__ = ["CONNECT_TIMEOUT", "connect", "shown"]

CONNECT_TIMEOUT: Final = 10
"""Seconds one attempt to connect may take before the server counts as unreachable."""

# A password in a URL's user part, or as a query or keyword parameter.
_PASSWORDS: Final = (
    (re.compile(r"(://[^:/@?#]*:)[^@/?#]*@"), r"\1***@"),
    (re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)"), r"\1***"),
)
_INSTALL: Final = "pip install 'actorflow[postgres]'"


def shown(url: str) -> str:
    """`url` as messages show it: libpq's keywords, without the password (never printed)."""
    try:
        import psycopg.conninfo
    except ImportError:
        return _masked(url)
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:  # not a string libpq reads: shown with the password masked
        return _masked(url)
    params.pop("password", None)
    return psycopg.conninfo.make_conninfo("", **params)


def _masked(url: str) -> str:
    for pattern, replacement in _PASSWORDS:
        url = pattern.sub(replacement, url)
    return url


def connect(url: str, *, read_only: bool) -> tuple[psycopg.Connection[Any], int]:
    """An autocommit connection to the journal at `url` and its schema version; the caller
    closes it.

    Raises `JournalError` (what PostgreSQL said, typed as `_pg_errors.translate` types it; an
    unreachable server is `JournalUnavailable`), `JournalSchemaError` for a database holding
    no journal or a journal of another schema version.
    """
    try:
        import psycopg

        from ._pg_errors import translate
    except ImportError as exc:
        raise JournalError(
            f"a PostgreSQL journal needs psycopg, which is not installed ({exc}); install it"
            f" with: {_INSTALL}"
        ) from exc
    name = shown(url)
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.ProgrammingError as exc:  # its text quotes the URL, password too
        raise JournalError(f"{name} is not a PostgreSQL connection string libpq can read") from exc
    except psycopg.Error as exc:
        raise translate(exc, f"cannot connect to {name}") from exc
    try:
        if read_only:
            conn.execute("SET default_transaction_read_only = on")
        version = _check(conn, name)
    except psycopg.Error as exc:
        conn.close()
        raise translate(exc, f"cannot read {name}") from exc
    except BaseException:
        conn.close()
        raise
    return conn, version


def _check(conn: psycopg.Connection[Any], name: str) -> int:
    """The journal's schema version, or raise if this actorflow cannot read it."""
    row = conn.execute("SELECT to_regclass('actorflow_meta') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        tables = [
            str(t)
            for (t,) in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema() ORDER BY table_name"
            ).fetchall()
        ]
        if tables:
            listed = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
            raise JournalSchemaError(
                f"{name} holds tables that are not an actorflow journal ({listed}); check the URL"
            )
        raise JournalSchemaError(
            f"{name} holds no actorflow journal; start a system on it first (actorflow run"
            " --journal URL), or check the URL"
        )
    found = conn.execute("SELECT value FROM actorflow_meta WHERE key = 'schema_version'").fetchone()
    try:
        version = int(found[0])  # type: ignore[index]
    except (TypeError, ValueError):
        raise JournalCorrupt(
            f"{name}: actorflow_meta has no readable schema_version; the journal is damaged,"
            " restore it from a backup"
        ) from None
    if version > SCHEMA_VERSION:
        raise JournalSchemaError(
            f"{name} holds a journal written by a newer actorflow (journal schema {version},"
            f" this actorflow reads up to {SCHEMA_VERSION}); upgrade actorflow to read it"
        )
    if version < SCHEMA_VERSION:
        raise JournalSchemaError(
            f"{name} holds journal schema {version}, older than this actorflow's"
            f" {SCHEMA_VERSION}; start an ActorSystem on it once to migrate it"
        )
    return version
