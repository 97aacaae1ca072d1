"""``actorflow journal ...``: inspect a journal, also while a system writes to it (P2).

Every command but ``requeue``, ``cancel`` and ``compact`` opens the journal read-only. Tables
are for people; ``--json`` prints one JSON object per line for programs. Times are UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

import click
import msgspec

from ..journal import ActorRecord, ActorSummary, actor_owners, decode_msgpack
from ._cancel import cancel_command
from ._compact import compact
from ._conversation import conversation
from ._conversations import conversations
from ._dead import dead, requeue_command
from ._messages import messages, show, tail
from ._nodes import nodes
from ._options import Journal, group_journal_option, journal_option, json_option, open_journal
from ._output import Column, Output, iso_time, message_full, pretty_json, table_time
from ._params import ID, NAME
from ._pin import pin, unpin
from ._replay import export_bundle
from ._steps import steps
from ._timers import timers

__all__ = ["journal"]

F = TypeVar("F", bound=Callable[..., Any])

_ACTOR_COLUMNS: Final = (
    Column("name", key=True),
    Column("kind"),
    Column("state bytes", "right"),
    Column("pending", "right"),
    Column("handled", "right"),
    Column("last activity (UTC)"),
)


@click.group()
@group_journal_option
def journal() -> None:
    """Inspect a journal: read-only, except `requeue`, `cancel` and `compact`.

    The journal (a SQLite file, or a postgresql:// URL) is the one given by the command's
    --journal, else by this group's (journal --journal X stats), else $ACTORFLOW_JOURNAL, else
    ./actorflow.db.
    Every command works while a system is writing to the journal. Times are UTC.
    """


# -- stats -------------------------------------------------------------------------------------


@journal.command()
@journal_option
@json_option
def stats(journal_path: Journal, as_json: bool) -> None:
    """Summary: size, schema, messages by status, actors, dead letters, oldest pending."""
    with open_journal(journal_path) as j:
        summary = j.stats()
    out = Output()
    oldest = summary.oldest_pending
    if as_json:
        data = msgspec.structs.asdict(summary)
        data["oldest_pending"] = (
            None
            if oldest is None
            else {"seq": oldest.seq, "id": oldest.id, "created_at": iso_time(oldest.created_at)}
        )
        out.json(data)
        return
    counts = summary.messages
    out.fields(
        [
            ("file" if isinstance(journal_path, Path) else "database", summary.file),
            (
                "size",
                f"{summary.size_bytes:,} bytes (+ {summary.wal_bytes:,} in the WAL file)"
                if isinstance(journal_path, Path)
                else f"{summary.size_bytes:,} bytes (its tables and indexes)",
            ),
            ("schema version", str(summary.schema_version)),
            (
                "messages",
                f"{sum(counts.values()):,}: {counts['pending']:,} pending,"
                f" {counts['done']:,} done, {counts['dead']:,} dead,"
                f" {counts['cancelled']:,} cancelled",
            ),
            ("actors", f"{summary.actors:,}"),
            ("dead letters", f"{summary.dead_letters:,}"),
            (
                "oldest pending",
                "-"
                if oldest is None
                else f"{table_time(oldest.created_at)} UTC (seq {oldest.seq}, id {oldest.id})",
            ),
        ]
    )


# -- actors ------------------------------------------------------------------------------------


@journal.command()
@journal_option
@json_option
def actors(journal_path: Journal, as_json: bool) -> None:
    """Durable actors: kind, state size, pending messages, messages handled, last activity;
    on a PostgreSQL journal whose shards nodes hold, each actor's owning node (C2)."""
    with open_journal(journal_path) as j:
        summaries = j.actor_summaries()
    owners = actor_owners(journal_path) if isinstance(journal_path, str) else {}
    if not any(owners.values()):
        owners = {}  # no node holds a shard (none ran, or all left): as on SQLite, no column
    out = Output()
    if as_json:
        for a in summaries:
            row: dict[str, Any] = {
                "name": a.name,
                "kind": a.kind,
                "state_bytes": a.state_bytes,
                "pending": a.pending,
                "handled": a.handled,
                "updated_at": iso_time(a.updated_at),
            }
            if owners:
                row["owner"] = owners.get(a.name)
            if a.state_error is not None:
                row["state_error"] = a.state_error
            out.json(row)
        return
    if not summaries:
        out.line("no actors in this journal")
        return
    rows = (
        (
            a.name,
            a.kind,
            _state_size(a),
            str(a.pending),
            str(a.handled),
            table_time(a.updated_at),
        )
        for a in summaries
    )
    if owners:
        out.table(
            (*_ACTOR_COLUMNS, Column("owner")),
            ((*row, owners.get(row[0]) or "-") for row in rows),
        )
    else:
        out.table(_ACTOR_COLUMNS, rows)


def _state_size(a: ActorSummary) -> str:
    if a.state_bytes is None:
        return "-"
    return f"{a.state_bytes} (undecodable)" if a.state_error is not None else str(a.state_bytes)


# -- state -------------------------------------------------------------------------------------


@journal.command()
@click.argument("actor", type=NAME)
@journal_option
@json_option
def state(actor: str, journal_path: Journal, as_json: bool) -> None:
    """An actor's last committed state, decoded to JSON (null if it has none yet)."""
    with open_journal(journal_path) as j:
        record = j.actor(actor)
    value, problem = decode_msgpack(record.state)
    out = Output()
    if as_json:
        data: dict[str, Any] = {
            "name": record.name,
            "kind": record.kind,
            "state_bytes": None if record.state is None else len(record.state),
            "state": value,
        }
        if problem is not None:
            data["state_error"] = problem
        out.json(data)
    elif problem is not None:
        out.line(f"(state of {len(record.state or b'')} bytes not shown: {problem})")
    else:
        out.line("null" if value is None else pretty_json(value))


# -- export ------------------------------------------------------------------------------------


@journal.command()
@journal_option
@click.option("--json", "as_json", is_flag=True, help="Accepted for uniformity: export is JSON.")
@click.option(
    "--conversation",
    type=ID,
    help="With --bundle: the conversation to write as a replay bundle.",
)
@click.option(
    "--bundle",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write conversation --conversation as a replay bundle to this file (actorflow replay"
    " --bundle FILE replays it).",
)
def export(
    journal_path: Journal, as_json: bool, conversation: str | None, bundle: Path | None
) -> None:
    """Every message, then every actor, as JSON lines, from one consistent snapshot.

    Each line has "kind": "message" or "actor". Bodies, states and constructor arguments are
    decoded from msgpack to JSON; bytes that cannot be decoded give a "..._error" field.

    With --conversation ID --bundle FILE, writes instead one conversation as a self-contained,
    versioned replay bundle: its messages, steps, states before and after each turn, and the
    kinds of its actors (R1).
    """
    if (conversation is None) != (bundle is None):
        raise click.UsageError("--conversation and --bundle go together")
    if conversation is not None and bundle is not None:
        export_bundle(journal_path, conversation, bundle)
        return
    out = Output()
    with open_journal(journal_path) as j, j.snapshot():
        for m in j.all_messages():
            out.json({"kind": "message", **message_full(m)})
        for a in j.all_actors():
            out.json({"kind": "actor", **_actor_full(a)})


def _actor_full(a: ActorRecord) -> dict[str, Any]:
    data: dict[str, Any] = {"name": a.name, "actor_kind": a.kind}
    for field, blob in (("args", a.args), ("options", a.options), ("state", a.state)):
        value, problem = decode_msgpack(blob)
        data[field] = value
        if problem is not None:
            data[f"{field}_error"] = problem
    data["supervisor"] = a.supervisor
    data["handled"] = a.handled
    data["created_at"] = iso_time(a.created_at)
    data["updated_at"] = iso_time(a.updated_at)
    return data


for command in (messages, show, dead, requeue_command, tail, conversation, compact, pin, unpin):
    journal.add_command(command)
for command in (conversations, steps, timers):
    journal.add_command(command)
journal.add_command(cancel_command)
journal.add_command(nodes)
