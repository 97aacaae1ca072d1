"""``actorflow journal ...``: inspect a journal, also while a system writes to it (P2).

Every command but ``requeue`` and ``compact`` opens the journal read-only. Tables are for
people; ``--json`` prints one JSON object per line for programs. Times are UTC.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Final, TypeVar

import click
import msgspec

from ..journal import ActorRecord, MessageRecord
from ..journal._wake import wake
from ._compact import compact
from ._conversation import conversation
from ._db import ActorSummary, Filters, Journal, decode_msgpack, unknown_message
from ._options import journal_option, json_option, where_from
from ._output import Column, Output, iso_time, message_summary, table_time
from ._params import FILTER_TEXT, TIME
from ._write import requeue

__all__ = ["journal"]

F = TypeVar("F", bound=Callable[..., Any])

FOLLOW_INTERVAL: Final = 0.2
"""Seconds between two looks at ``PRAGMA data_version`` in ``tail --follow``: cheap, and well
under the time a person notices."""
_FOLLOW_BATCH: Final = 1000

_MESSAGE_COLUMNS: Final = (
    Column("seq", "right"),
    Column("id", fold=True),
    Column("time (UTC)"),
    Column("sender"),
    Column("recipient"),
    Column("type"),
    Column("status"),
    Column("attempts", "right"),
)
_ACTOR_COLUMNS: Final = (
    Column("name", fold=True),
    Column("kind"),
    Column("state bytes", "right"),
    Column("pending", "right"),
    Column("handled", "right"),
    Column("last activity (UTC)"),
)
_DEAD_COLUMNS: Final = (
    Column("seq", "right"),
    Column("id", fold=True),
    Column("time (UTC)"),
    Column("recipient"),
    Column("type"),
    Column("attempts", "right"),
    Column("error", fold=True),
)


def _limit_option(default: int, what: str) -> Callable[[F], F]:
    return click.option(
        "--limit",
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        help=f"Show at most this many {what}.",
    )


def _open(journal_path: Path) -> AbstractContextManager[Journal]:
    """Open the journal read-only; a missing file's error says where its path came from."""
    return Journal.open(journal_path, where_from=where_from())


@click.group()
def journal() -> None:
    """Inspect a journal: read-only, except `requeue` and `compact`.

    The journal is the file given by --journal, else $ACTORFLOW_JOURNAL, else ./actorflow.db.
    Every command works while a system is writing to the journal. Times are UTC.
    """


# -- stats -------------------------------------------------------------------------------------


@journal.command()
@journal_option
@json_option
def stats(journal_path: Path, as_json: bool) -> None:
    """Summary: size, schema, messages by status, actors, dead letters, oldest pending."""
    with _open(journal_path) as j:
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
            ("file", summary.file),
            ("size", f"{summary.size_bytes:,} bytes (+ {summary.wal_bytes:,} in the WAL file)"),
            ("schema version", str(summary.schema_version)),
            (
                "messages",
                f"{sum(counts.values()):,}: {counts['pending']:,} pending,"
                f" {counts['done']:,} done, {counts['dead']:,} dead",
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
def actors(journal_path: Path, as_json: bool) -> None:
    """Durable actors: kind, state size, pending messages, messages handled, last activity."""
    with _open(journal_path) as j:
        summaries = j.actor_summaries()
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
            if a.state_error is not None:
                row["state_error"] = a.state_error
            out.json(row)
        return
    if not summaries:
        out.line("no actors in this journal")
        return
    out.table(
        _ACTOR_COLUMNS,
        (
            (
                a.name,
                a.kind,
                _state_size(a),
                str(a.pending),
                str(a.handled),
                table_time(a.updated_at),
            )
            for a in summaries
        ),
    )


def _state_size(a: ActorSummary) -> str:
    if a.state_bytes is None:
        return "-"
    return f"{a.state_bytes} (undecodable)" if a.state_error is not None else str(a.state_bytes)


# -- messages ----------------------------------------------------------------------------------


@journal.command()
@journal_option
@click.option("--actor", type=FILTER_TEXT, help="Only messages sent to or by this actor.")
@click.option("--type", "type_", type=FILTER_TEXT, help="Only messages of this type (its tag).")
@click.option("--status", type=click.Choice(["pending", "done", "dead"]), help="Only this status.")
@click.option("--conversation", type=FILTER_TEXT, help="Only this conversation id.")
@click.option("--since", type=TIME, help="Only messages created at or after TIME.")
@click.option("--until", type=TIME, help="Only messages created before TIME.")
@_limit_option(50, "messages")
@json_option
def messages(
    journal_path: Path,
    actor: str | None,
    type_: str | None,
    status: Any,
    conversation: str | None,
    since: float | None,
    until: float | None,
    limit: int,
    as_json: bool,
) -> None:
    """Messages, newest first, filtered by actor, type, status, conversation and time.

    TIME is an ISO 8601 time (2025-01-31T12:00:00Z; UTC when it has no zone) or a duration
    ago: 30s, 10m, 2h, 3d, 1w, 1h30m.
    """
    filters = Filters(
        actor=actor,
        type=type_,
        status=status,
        conversation=conversation,
        since=since,
        until=until,
    )
    with _open(journal_path) as j:
        found = j.messages(filters, limit=limit)
    out = Output()
    if as_json:
        for m in found:
            out.json(message_summary(m))
    elif found:
        out.table(_MESSAGE_COLUMNS, (_message_row(m) for m in found))
    else:
        out.line("no messages match")


def _message_row(m: MessageRecord) -> tuple[str, ...]:
    return (
        str(m.seq),
        m.id,
        table_time(m.created_at),
        m.sender or "-",
        m.recipient,
        m.type,
        m.status,
        str(m.attempts),
    )


def _message_full(m: MessageRecord) -> dict[str, Any]:
    data = message_summary(m)
    body, problem = decode_msgpack(m.body)
    data["body"] = body
    if problem is not None:
        data["body_error"] = problem
    data["error"] = m.error
    data["traceback"] = m.traceback
    return data


# -- show --------------------------------------------------------------------------------------


@journal.command()
@click.argument("message_id", metavar="ID")
@journal_option
@json_option
def show(message_id: str, journal_path: Path, as_json: bool) -> None:
    """One message in full: every column, its body decoded to JSON, its error and traceback."""
    with _open(journal_path) as j:
        found = j.message(message_id)
        if found is None:
            raise unknown_message(journal_path, message_id)
    data = _message_full(found)
    out = Output()
    if as_json:
        out.json(data)
        return
    out.fields(
        [
            ("seq", str(found.seq)),
            ("id", found.id),
            ("type", found.type),
            ("sender", found.sender or "-"),
            ("recipient", found.recipient),
            ("status", found.status),
            ("attempts", str(found.attempts)),
            ("created", f"{table_time(found.created_at)} UTC"),
            ("done", "-" if found.done_at is None else f"{table_time(found.done_at)} UTC"),
            ("conversation", found.conversation or "-"),
            ("cause", found.cause or "-"),
            ("body bytes", str(len(found.body))),
        ]
    )
    out.line("")
    body = data["body"]
    out.line("body:", style="bold")
    out.line(_pretty(body) if body is not None else f"(not shown: {data['body_error']})")
    if found.error is not None:
        out.line("")
        out.line("error:", style="bold")
        out.line(found.error)
    if found.traceback is not None:
        out.line("")
        out.line("traceback:", style="bold")
        out.line(found.traceback.rstrip("\n"))


def _pretty(raw: msgspec.Raw) -> str:
    return msgspec.json.format(bytes(raw), indent=2).decode()


# -- state -------------------------------------------------------------------------------------


@journal.command()
@click.argument("actor", type=FILTER_TEXT)
@journal_option
@json_option
def state(actor: str, journal_path: Path, as_json: bool) -> None:
    """An actor's last committed state, decoded to JSON (null if it has none yet)."""
    with _open(journal_path) as j:
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
        out.line("null" if value is None else _pretty(value))


# -- dead --------------------------------------------------------------------------------------


@journal.command()
@journal_option
@_limit_option(50, "dead letters")
@json_option
def dead(journal_path: Path, limit: int, as_json: bool) -> None:
    """Dead letters, newest first, with their errors (see `show ID` for the traceback)."""
    with _open(journal_path) as j:
        letters = j.dead_letters(limit=limit)
    out = Output()
    if as_json:
        for m in letters:
            out.json(_message_full(m))
    elif letters:
        out.table(
            _DEAD_COLUMNS,
            (
                (
                    str(m.seq),
                    m.id,
                    table_time(m.created_at),
                    m.recipient,
                    m.type,
                    str(m.attempts),
                    m.error or "-",
                )
                for m in letters
            ),
        )
    else:
        out.line("no dead letters")


# -- requeue -----------------------------------------------------------------------------------


@journal.command("requeue")
@click.argument("message_id", metavar="ID")
@journal_option
def requeue_command(message_id: str, journal_path: Path) -> None:
    """Make a dead letter pending again, with its attempts reset (writes to the journal).

    One transaction sets the message's status to pending, its attempts to 0, clears its error
    and traceback, and leaves a notice for a running system (J11), which the command then wakes:
    a system running on this journal delivers the message at once, else the next one started.
    """
    before = requeue(journal_path, message_id, where_from=where_from())
    woken = wake(journal_path)
    Output().line(
        f"requeued {before.id} ({before.type} to {before.recipient}, dead after"
        f" {before.attempts} attempt{'' if before.attempts == 1 else 's'}): pending again; "
        + (
            "the system running on this journal was woken to deliver it"
            if woken
            else "no running system was woken (one running on this journal takes it in within"
            " a second; else the next one started on it delivers it)"
        )
    )


# -- tail --------------------------------------------------------------------------------------


@journal.command()
@journal_option
@click.option("--follow", "-f", is_flag=True, help="Keep printing new messages as they commit.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Show this many of the newest messages first (0: only new ones, with --follow).",
)
@json_option
def tail(journal_path: Path, follow: bool, limit: int, as_json: bool) -> None:
    """The newest messages, oldest first; with --follow, then every new one until Ctrl-C.

    A message is printed once, with the status it had then. --follow looks for commits every
    0.2 s (SQLite's data_version) and reads only what is new.
    """
    out = Output()

    def show_one(m: MessageRecord) -> None:
        if as_json:
            out.json(message_summary(m))
        else:
            out.line(_tail_line(m))

    with _open(journal_path) as j:
        try:
            # Read the version first: a commit after this point changes it, so none is missed.
            version = j.data_version()
            with j.snapshot():
                newest = j.newest(limit=limit) if limit else []
                last = _print_all(newest, show_one, j.last_seq())
            if not follow:
                return
            out.flush()
            while True:
                time.sleep(FOLLOW_INTERVAL)
                seen, version = version, j.data_version()
                if seen == version:
                    continue
                while True:
                    batch = j.after(last, limit=_FOLLOW_BATCH)
                    last = _print_all(batch, show_one, last)
                    if len(batch) < _FOLLOW_BATCH:
                        break
                out.flush()
        except KeyboardInterrupt:
            return  # Ctrl-C is how --follow ends


def _print_all(
    found: Iterable[MessageRecord], show_one: Callable[[MessageRecord], None], last: int
) -> int:
    for m in found:
        show_one(m)
        last = max(last, m.seq)
    return last


def _tail_line(m: MessageRecord) -> str:
    return (
        f"{table_time(m.created_at)}  #{m.seq}  {m.sender or '-'} -> {m.recipient}"
        f"  {m.type}  {m.status}  {m.id}"
    )


# -- export ------------------------------------------------------------------------------------


@journal.command()
@journal_option
@click.option("--json", "as_json", is_flag=True, help="Accepted for uniformity: export is JSON.")
def export(journal_path: Path, as_json: bool) -> None:
    """Every message, then every actor, as JSON lines, from one consistent snapshot.

    Each line has "kind": "message" or "actor". Bodies, states and constructor arguments are
    decoded from msgpack to JSON; bytes that cannot be decoded give a "..._error" field.
    """
    out = Output()
    with _open(journal_path) as j, j.snapshot():
        for m in j.all_messages():
            out.json({"kind": "message", **_message_full(m)})
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


journal.add_command(conversation)
journal.add_command(compact)
