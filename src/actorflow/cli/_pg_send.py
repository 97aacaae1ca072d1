"""``actorflow send`` to a PostgreSQL journal (J11): the actor's record, then the append.

Plain psycopg, one short connection each: the message and its notice in one transaction
(`actorflow.journal._pg_outside.append_outside`), then a NOTIFY that wakes the running system.
A database holding no journal is refused rather than made one: sending to a journal that no
system has started on is a mistake in the URL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .._errors import ActorNotFound, JournalError, JournalSchemaError
from ..journal import ActorRecord, Appended, MessageRecord
from ..journal._rows import ACTOR_COLUMNS, MESSAGE_COLUMNS, read_actor, read_message
from ..journal._schema import SCHEMA_VERSION
from ._errors import Failure

__all__ = ["actor_record", "append"]


@contextlib.contextmanager
def _journal(url: str) -> Iterator[Any]:
    """An autocommit connection to the journal at `url`, checked to hold a journal we read."""
    try:
        import psycopg

        from ..journal._pg_errors import translate
    except ImportError as exc:
        raise JournalError(
            f"a PostgreSQL journal needs psycopg ({exc}); install it with:"
            " pip install 'actorflow[postgres]'"
        ) from exc
    name = _shown(url)
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise translate(exc, f"cannot connect to {name}") from exc
    try:
        try:
            row = conn.execute("SELECT to_regclass('actorflow_meta') IS NOT NULL").fetchone()
            if row is None or not row[0]:
                raise Failure(
                    f"{name} holds no actorflow journal; start a system on it first (actorflow"
                    " run --journal URL), or check the URL"
                )
            version = conn.execute(
                "SELECT value FROM actorflow_meta WHERE key = 'schema_version'"
            ).fetchone()
            if version is not None and int(version[0]) > SCHEMA_VERSION:
                raise JournalSchemaError(
                    f"{name} holds a journal written by a newer actorflow (journal schema"
                    f" {version[0]}, this actorflow reads up to {SCHEMA_VERSION}); upgrade"
                    " actorflow to send to it"
                )
            yield conn
        except psycopg.Error as exc:
            raise translate(exc, f"cannot use the journal {name}") from exc
    finally:
        conn.close()


def _shown(url: str) -> str:
    """`url` without its password."""
    import psycopg.conninfo

    params = psycopg.conninfo.conninfo_to_dict(url)
    params.pop("password", None)
    return psycopg.conninfo.make_conninfo("", **params)


def actor_record(url: str, name: str) -> ActorRecord:
    """The journal's actor `name`; raises `ActorNotFound` if it has none."""
    with _journal(url) as conn:
        row = conn.execute(
            f"SELECT {ACTOR_COLUMNS} FROM actors WHERE name = %s", (name,)
        ).fetchone()
    if row is None:
        raise ActorNotFound(
            f"no actor named {name!r} in {_shown(url)}; is it the journal the system runs on?"
        )
    return read_actor(row)


def append(url: str, record: MessageRecord, *, notify: bool) -> Appended:
    """Append `record` with its notice and (if `notify`) notify the running system;
    idempotent by id."""
    from ..journal._pg_outside import append_outside

    with _journal(url) as conn:
        seq = append_outside(conn, record, notify=notify)
        row = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = %s", (record.id,)
        ).fetchone()
    if row is None:
        raise Failure(
            f"message {record.id!r} was in {_shown(url)} but is gone (compacted): nothing was"
            " appended; send it again to append it"
        )
    return Appended(read_message(row), duplicate=seq is None)
