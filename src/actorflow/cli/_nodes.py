"""``actorflow journal nodes``: the nodes sharing a PostgreSQL journal, their leases and what
they own (C2, U1).

Read-only, plain psycopg on one short connection: the nodes' rows, each lease judged live or
lapsed by the **database's** clock (the one every commit's fence uses), and the shards and
actors each node owns. A SQLite journal has one node, the process that opens it: there is
nothing to show, and the command says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import click
import msgspec

from .._errors import JournalError
from ..journal import PostgresJournal
from ._errors import Failure
from ._options import journal_or_url_option, json_option
from ._output import Column, Output, iso_time, table_time

__all__ = ["nodes"]

_COLUMNS: Final = (
    Column("node", key=True),
    Column("host"),
    Column("pid", "right"),
    Column("started (UTC)"),
    Column("last renewal (UTC)"),
    Column("lease"),
    Column("shards", "right"),
    Column("actors", "right"),
)


class NodeRow(msgspec.Struct, frozen=True):
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


@click.command()
@journal_or_url_option
@json_option
def nodes(journal_path: Path | str, as_json: bool) -> None:
    """The nodes sharing a postgresql:// journal: host, pid, last lease renewal (the
    database's clock), lease live or lapsed, shards and actors owned."""
    if isinstance(journal_path, Path):
        raise Failure(
            f"{journal_path} is a SQLite journal, which has one node (the process that opens"
            " it); `journal nodes` shows the nodes sharing a postgresql:// journal"
        )
    rows = _read(journal_path)
    out = Output()
    if as_json:
        for row in rows:
            data = msgspec.structs.asdict(row)
            data["started_at"] = iso_time(row.started_at)
            data["renewed_at"] = iso_time(row.renewed_at)
            out.json(data)
        return
    if not rows:
        out.line("no nodes: no system runs on this journal")
        return
    out.table(_COLUMNS, (_table_row(row) for row in rows))


def _table_row(row: NodeRow) -> tuple[str, ...]:
    return (
        row.node,
        row.host,
        str(row.pid),
        table_time(row.started_at),
        table_time(row.renewed_at),
        f"{row.lease_seconds:g} s, {row.lease}",
        str(len(row.shards)),
        str(row.actors),
    )


def _read(url: str) -> list[NodeRow]:
    try:
        import psycopg

        from ..journal._pg_errors import translate
    except ImportError as exc:
        raise JournalError(
            f"a PostgreSQL journal needs psycopg ({exc}); install it with:"
            " pip install 'actorflow[postgres]'"
        ) from exc
    name = PostgresJournal(url).name  # the URL without its password
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            found = conn.execute(
                "SELECT to_regclass('actorflow_meta') IS NOT NULL,"
                " to_regclass('actorflow_nodes') IS NOT NULL"
            ).fetchone()
            if found is None or not found[0]:
                raise Failure(f"{name} holds no actorflow journal; check the URL")
            if not found[1]:
                return []  # no node of this version has run on it yet
            shards = conn.execute(
                "SELECT value FROM actorflow_meta WHERE key = 'shards'"
            ).fetchone()
            count = int(shards[0]) if shards is not None else 0
            rows = conn.execute(_NODES, (count,)).fetchall()
    except psycopg.Error as exc:
        raise translate(exc, f"cannot read the nodes of {name}") from exc
    return [_node(row) for row in rows]


def _node(row: Any) -> NodeRow:
    node, host, pid, started, renewed, lease, live, since, shards, actors = row
    return NodeRow(
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
