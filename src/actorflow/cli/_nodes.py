"""``actorflow journal nodes``: the nodes sharing a PostgreSQL journal, their leases and what
they own (C2, U1).

Read-only (`actorflow.journal.read_nodes`): the nodes' rows, each lease judged live or lapsed
by the **database's** clock (the one every commit's fence uses), and the shards and actors each
node owns. A SQLite journal has one node, the process that opens it: there is nothing to show,
and the command says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import click
import msgspec

from ..journal import NodeView, read_nodes
from ._errors import Failure
from ._options import Journal, journal_option, json_option
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


@click.command()
@journal_option
@json_option
def nodes(journal_path: Journal, as_json: bool) -> None:
    """The nodes sharing a postgresql:// journal: host, pid, last lease renewal (the
    database's clock), lease live or lapsed, shards and actors owned."""
    if isinstance(journal_path, Path):
        raise Failure(
            f"{journal_path} is a SQLite journal, which has one node (the process that opens"
            " it); `journal nodes` shows the nodes sharing a postgresql:// journal"
        )
    rows = read_nodes(journal_path)
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


def _table_row(row: NodeView) -> tuple[str, ...]:
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
