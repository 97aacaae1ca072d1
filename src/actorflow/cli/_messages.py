"""``actorflow journal messages|show|tail``: the messages of a journal, one or all, or as they
come (P2). Read-only."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Final

import click

from ..journal import MessageFilters, MessageRecord
from ..journal._reader import unknown_message
from ..journal._rows import STATUSES
from ._options import Journal, journal_option, json_option, limit_option, once, open_journal
from ._output import (
    STATUS_STYLES,
    Column,
    Output,
    message_full,
    message_summary,
    pretty_json,
    table_time,
)
from ._params import FILTER_TEXT, ID, NAME, TIME
from ._steps import PREVIEW, print_steps, step_json

__all__ = ["messages", "show", "tail"]

FOLLOW_INTERVAL: Final = 0.2
"""Seconds between two looks at ``PRAGMA data_version`` in ``tail --follow``: cheap, and well
under the time a person notices."""
_FOLLOW_BATCH: Final = 1000

_MESSAGE_COLUMNS: Final = (
    Column("seq", "right"),
    Column("id", key=True),
    Column("time (UTC)"),
    Column("sender"),
    Column("recipient"),
    Column("type"),
    Column("status", styles=STATUS_STYLES),
    Column("attempts", "right"),
)


# -- messages ----------------------------------------------------------------------------------


@click.command()
@journal_option
@click.option(
    "--actor",
    type=NAME,
    multiple=True,
    callback=once,
    help="Only messages sent to or by this actor.",
)
@click.option(
    "--type",
    "type_",
    type=FILTER_TEXT,
    multiple=True,
    callback=once,
    help="Only messages of this type (its tag).",
)
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    multiple=True,
    callback=once,
    help="Only this status.",
)
@click.option(
    "--conversation", type=ID, multiple=True, callback=once, help="Only this conversation id."
)
@click.option(
    "--since",
    type=TIME,
    multiple=True,
    callback=once,
    help="Only messages created at or after TIME.",
)
@click.option(
    "--until", type=TIME, multiple=True, callback=once, help="Only messages created before TIME."
)
@limit_option(50, "messages")
@json_option
def messages(
    journal_path: Journal,
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

    Filters combine with AND; each may be given once (a second --actor is an error).

    TIME is an ISO 8601 time (2025-01-31T12:00:00Z; UTC when it has no zone) or a duration
    ago: 30s, 10m, 2h, 3d, 1w, 1h30m.
    """
    filters = MessageFilters(
        actor=actor,
        type=type_,
        status=status,
        conversation=conversation,
        since=since,
        until=until,
    )
    with open_journal(journal_path) as j:
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


# -- show --------------------------------------------------------------------------------------


@click.command()
@click.argument("message_id", metavar="ID", type=ID)
@click.option("--full", is_flag=True, help=f"Print long step results whole (cut at {PREVIEW}).")
@journal_option
@json_option
def show(message_id: str, full: bool, journal_path: Journal, as_json: bool) -> None:
    """One message in full: every column, its body decoded to JSON, its error and traceback,
    and the steps it recorded (--json: each with its whole result)."""
    with open_journal(journal_path) as j, j.snapshot():
        found = j.message(message_id)
        if found is None:
            raise unknown_message(journal_path, message_id)
        recorded = j.steps(message_id)
    data = message_full(found)
    out = Output()
    if as_json:
        data["steps"] = [step_json(s) for s in recorded]
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
            ("cancelled", _cancelled(found)),
            ("conversation", found.conversation or "-"),
            ("cause", found.cause or "-"),
            ("body bytes", str(len(found.body))),
        ]
    )
    out.line("")
    body = data["body"]
    out.line("body:", style="bold")
    out.line(pretty_json(body) if body is not None else f"(not shown: {data['body_error']})")
    if found.error is not None:
        out.line("")
        out.line("error:", style="bold")
        out.line(found.error)
    if found.traceback is not None:
        out.line("")
        out.line("traceback:", style="bold")
        out.line(found.traceback.rstrip("\n"))
    if recorded:
        out.line("")
        out.line(f"steps ({len(recorded)}):", style="bold")
        print_steps(out, recorded, full=full)


def _cancelled(m: MessageRecord) -> str:
    """When and by whom it was cancelled; for one done since, that the cancel came too late."""
    if m.cancelled_at is None:
        return "-"
    text = f"{table_time(m.cancelled_at)} UTC by {m.cancelled_by or 'someone'}"
    if m.status == "done":
        text += " (its handler was already running: it finished, and the message is done)"
    return text


# -- tail --------------------------------------------------------------------------------------


@click.command()
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
def tail(journal_path: Journal, follow: bool, limit: int, as_json: bool) -> None:
    """The newest messages, oldest first; with --follow, then every new one until Ctrl-C.

    A message is printed once, with the status it had then. --follow looks for commits every
    0.2 s (SQLite's data_version) and reads only what is new.
    """
    out = Output()
    layout = _TailLayout()

    def show_one(m: MessageRecord) -> None:
        if as_json:
            out.json(message_summary(m))
        else:
            out.pieces(layout.line(m))

    with open_journal(journal_path) as j:
        try:
            # Read the version first: a commit after this point changes it, so none is missed.
            version = j.data_version()
            with j.snapshot():
                newest = j.newest(limit=limit) if limit else []
                layout.fit(newest)
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
                    layout.fit(batch)
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


class _TailLayout:
    """The columns of ``tail``'s lines: each as wide as the widest value seen so far.

    Lines are printed as they come, so a column can only widen: from the first batch on, lines
    line up until a longer value arrives, and from there on again. The id comes last, whole.
    """

    def __init__(self) -> None:
        self.widths = [0, 0, 0, len("pending")]

    def fit(self, found: Iterable[MessageRecord]) -> None:
        for m in found:
            self.widths = [
                max(w, len(v)) for w, v in zip(self.widths, _tail_fields(m), strict=True)
            ]

    def line(self, m: MessageRecord) -> list[tuple[str, str]]:
        self.fit([m])
        seq, route, type_, status = _tail_fields(m)
        w_seq, w_route, w_type, w_status = self.widths
        lead = f"{table_time(m.created_at)}  {seq:>{w_seq}}  {route:<{w_route}}  {type_:<{w_type}}"
        return [
            (lead + "  ", ""),
            (status.ljust(w_status), STATUS_STYLES.get(status, "")),
            (f"  {m.id}", ""),
        ]


def _tail_fields(m: MessageRecord) -> tuple[str, str, str, str]:
    return f"#{m.seq}", f"{m.sender or '-'} -> {m.recipient}", m.type, m.status
