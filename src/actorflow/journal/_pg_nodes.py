"""What the nodes sharing a PostgreSQL journal hold (C2, U1): their leases, shards and actors,
and each actor's owner, read for people (``actorflow journal nodes``, ``journal actors``).

Read-only, plain psycopg on one short connection; each lease judged live or lapsed by the
**database's** clock, the one every commit's fence uses.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from .._errors import JournalError
from ._postgres import PostgresJournal

__all__ = ["NodeView", "actor_owners", "read_nodes"]


class NodeView(msgspec.Struct, frozen=True):
    """One node as `journal nodes --json` prints it."""

    node: str
    host: str
    pid: int
    started_at: float
    renewed_at: float
    lease_seconds: float
    lease: str
    """``live`` or ``lapsed``, by the database's clock."""
    seconds_since_renewal: float
    shards: list[int]
    actors: int


_NODES: Final = (
    "SELECT n.node, n.host, n.pid, extract(epoch FROM n.started_at)::float8,"
    " extract(epoch FROM n.renewed_at)::float8, n.lease_seconds,"
    " n.renewed_at + make_interval(secs => n.lease_seconds) > clock_timestamp(),"
    " extract(epoch FROM clock_timestamp() - n.renewed_at)::float8,"
    " (SELECT coalesce(array_agg(s.shard ORDER BY s.shard), '{}') FROM actorflow_shards AS s"
    "  WHERE s.owner = n.node),"
    " (SELECT count(*) FROM actors AS a JOIN actorflow_shards AS s"
    "  ON s.shard = actorflow_shard(a.name, %s) WHERE s.owner = n.node)"
    " FROM actorflow_nodes AS n ORDER BY n.node"
)
# An owner whose lease lapsed still holds its shards until another node claims them; shown as
# it is (the fence refuses its commits all the same).
_OWNERS: Final = (
    "SELECT a.name, s.owner FROM actors AS a"
    " LEFT JOIN actorflow_shards AS s ON s.shard = actorflow_shard(a.name, %s)"
)


def read_nodes(url: str) -> list[NodeView]:
    """The nodes of the journal at `url`, by name; empty when no node of this version ran on
    it. Raises `JournalError` (a database without a journal: `JournalSchemaError`)."""
    found = _read(url, _NODES, "the nodes")
    return [] if found is None else [_node(row) for row in found]


def actor_owners(url: str) -> dict[str, str | None]:
    """Each actor's owning node (None for an actor of an unowned shard); empty when no node of
    this version ran on the journal. Raises `JournalError`."""
    found = _read(url, _OWNERS, "the actors' owners")
    return {} if found is None else {str(name): owner for name, owner in found}


def _read(url: str, query: str, what: str) -> list[Any] | None:
    try:
        import psycopg

        from ._pg_errors import translate
    except ImportError as exc:
        raise JournalError(
            f"a PostgreSQL journal needs psycopg ({exc}); install it with:"
            " pip install 'actorflow[postgres]'"
        ) from exc
    from .._errors import JournalSchemaError

    name = PostgresJournal(url).name  # the URL without its password
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            found = conn.execute(
                "SELECT to_regclass('actorflow_meta') IS NOT NULL,"
                " to_regclass('actorflow_nodes') IS NOT NULL"
            ).fetchone()
            if found is None or not found[0]:
                raise JournalSchemaError(f"{name} holds no actorflow journal; check the URL")
            if not found[1]:
                return None  # no node of this version has run on it yet
            shards = conn.execute(
                "SELECT value FROM actorflow_meta WHERE key = 'shards'"
            ).fetchone()
            count = int(shards[0]) if shards is not None else 0
            return list(conn.execute(query, (count,)).fetchall())
    except psycopg.Error as exc:
        raise translate(exc, f"cannot read {what} of {name}") from exc


def _node(row: Any) -> NodeView:
    node, host, pid, started, renewed, lease, live, since, shards, actors = row
    return NodeView(
        node=str(node),
        host=str(host),
        pid=int(pid),
        started_at=float(started),
        renewed_at=float(renewed),
        lease_seconds=float(lease),
        lease="live" if live else "lapsed",
        seconds_since_renewal=round(float(since), 3),
        shards=[int(s) for s in shards],
        actors=int(actors),
    )
