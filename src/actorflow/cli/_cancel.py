"""``actorflow journal cancel ID | --message ID``: cancel what is pending (J11, J3, J10).

Pending messages and timers become ``cancelled``: never handled, kept for the record with who
cancelled them and when (``journal show``), compacted like done messages. One transaction; a
running system is woken and drops them before their handlers start. A message whose handler
is already running finishes, and its turn commits as done (J3).
"""

from __future__ import annotations

import getpass
from typing import Any, Final

import click

from ..journal import Cancelled, MessageRecord, TimerRecord, cancel
from ._options import Journal, journal_option, json_option, where_from
from ._output import Column, Output, iso_time, message_summary, table_time
from ._params import FILTER_TEXT, ID

__all__ = ["cancel_command"]

_COLUMNS: Final = (
    Column("id", key=True),
    Column("what"),
    Column("type"),
    Column("recipient"),
    Column("attempts", "right"),
    Column("due (UTC)"),
)


@click.command("cancel")
@click.argument("conversation", metavar="[CONVERSATION_ID]", required=False, type=ID)
@click.option(
    "--message",
    "message_id",
    metavar="ID",
    type=ID,
    help="Cancel only this message or timer.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be cancelled; change nothing.")
@click.option(
    "--by",
    metavar="TEXT",
    type=FILTER_TEXT,
    help="Who cancels, as recorded with each message (default: the OS user).",
)
@journal_option
@json_option
def cancel_command(
    conversation: str | None,
    message_id: str | None,
    dry_run: bool,
    by: str | None,
    journal_path: Journal,
    as_json: bool,
) -> None:
    """Cancel the pending messages and timers of a conversation, or one message or timer
    (writes to the journal, unless --dry-run).

    Each becomes "cancelled", with who and when: it is never handled, stays in the journal for
    the record, and is compacted like a done message. One transaction; a system running on the
    journal is woken and drops them before their handlers start. A message whose handler is
    already running finishes, and ends done; those that had an attempt started are marked
    "started" below. Nothing pending is not an error (exit 0, with a line saying so).
    """
    if (conversation is None) == (message_id is None):
        raise click.UsageError(
            "give a CONVERSATION_ID or --message ID (one of them)"
            if conversation is None
            else "give a CONVERSATION_ID or --message ID, not both"
        )
    who = f"{by or _os_user()} via cli"
    out = Output()
    target: dict[str, Any] = {"conversation": conversation, "message_id": message_id}
    # What it will do, read first (an unknown id fails here, before anything is printed); then
    # the cancel itself, one transaction, which counts what it did.
    done = cancel(journal_path, **target, by=who, dry_run=True, where_from=where_from())
    if done.count and not dry_run:
        if not as_json:
            out.line(f"cancelling {_counted(done)} {_of(done)}, as {who}: one transaction")
            out.flush()
        done = cancel(journal_path, **target, by=who, where_from=where_from())
    if as_json:
        out.json(_json(done))
        return
    if not done.count:
        out.line(_nothing(done))
        return
    out.line(f"{'would cancel' if dry_run else 'cancelled'} {_counted(done)} {_of(done)}:")
    out.table(
        _COLUMNS,
        [_message_row(m) for m in done.messages] + [_timer_row(t) for t in done.timers],
    )
    for m in done.started:
        out.line(f"{m.id}: an attempt had started; if its handler is running, it finishes (done)")
    rest = {k: v for k, v in done.statuses.items() if k != "pending"}
    if done.kind == "conversation" and rest:
        out.line(f"left as they were: {_statuses(rest)}")
    if dry_run:
        out.line("dry run: nothing was written")
    elif done.woken:
        out.line("the system running on this journal was woken: it drops them from its mailboxes")
    else:
        out.line(
            "no running system was woken (one running on this journal notices within a second;"
            " one started later never restores them)"
        )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container), nor in the environment
        return "unknown user"


def _counted(done: Cancelled) -> str:
    parts = []
    if done.kind != "conversation":
        return "pending " + done.kind
    if done.messages:
        parts.append(_count(len(done.messages), "pending message"))
    if done.timers:
        parts.append(_count(len(done.timers), "timer"))
    return " and ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _of(done: Cancelled) -> str:
    return f"of {done.kind} {done.target}" if done.kind == "conversation" else done.target


def _statuses(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {status}" for status, n in sorted(counts.items()))


def _nothing(done: Cancelled) -> str:
    if done.kind == "conversation":
        total = sum(done.statuses.values())
        return (
            f"nothing to cancel in conversation {done.target}: no pending messages or timers"
            f" ({_count(total, 'message')}: {_statuses(done.statuses)})"
        )
    (status,) = done.statuses
    return f"nothing to cancel: message {done.target} is {status}, not pending"


def _message_row(m: MessageRecord) -> tuple[str, ...]:
    return (
        m.id,
        "message, started" if m.attempts else "message",
        m.type,
        m.recipient,
        str(m.attempts),
        "-",
    )


def _timer_row(t: TimerRecord) -> tuple[str, ...]:
    m = t.message
    return (m.id, "timer", m.type, m.recipient, "-", table_time(t.due_at))


def _json(done: Cancelled) -> dict[str, Any]:
    return {
        "target": done.target,
        "kind": done.kind,
        "dry_run": done.dry_run,
        "by": done.by,
        "at": iso_time(done.at),
        "count": done.count,
        "messages": [message_summary(m) for m in done.messages],
        "timers": [
            {**message_summary(t.message), "due_at": iso_time(t.due_at)} for t in done.timers
        ],
        "started": [m.id for m in done.started],
        "statuses": done.statuses,
        "woken": done.woken,
    }
