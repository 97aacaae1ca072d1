"""``actorflow journal dead|requeue``: dead letters with their errors, and sending one again
(S7, P2)."""

from __future__ import annotations

from collections import Counter
from typing import Final

import click

from ..journal import DeadLetterFilters, MessageRecord, requeue, requeue_dead, wake
from ..journal._operations import not_dead
from ..journal._reader import unknown_message
from ._options import (
    Journal,
    journal_option,
    json_option,
    limit_option,
    once,
    open_journal,
    where_from,
)
from ._output import Column, Output, message_full, message_summary, table_time
from ._params import FILTER_TEXT, ID, NAME, TIME

__all__ = ["dead", "requeue_command"]

_DEAD_COLUMNS: Final = (
    Column("seq", "right"),
    Column("id", key=True),
    Column("time (UTC)"),
    Column("recipient"),
    Column("type"),
    Column("attempts", "right"),
    Column("error", fold=True),
)


# -- dead --------------------------------------------------------------------------------------


@click.command()
@journal_option
@limit_option(50, "dead letters")
@json_option
def dead(journal_path: Journal, limit: int, as_json: bool) -> None:
    """Dead letters, newest first, with their errors (see `show ID` for the traceback)."""
    with open_journal(journal_path) as j:
        letters = j.dead_letters(limit=limit)
    out = Output()
    if as_json:
        for m in letters:
            out.json(message_full(m))
    elif letters:
        out.table(_DEAD_COLUMNS, (_dead_row(m) for m in letters))
    else:
        out.line("no dead letters")


def _dead_row(m: MessageRecord) -> tuple[str, ...]:
    return (
        str(m.seq),
        m.id,
        table_time(m.created_at),
        m.recipient,
        m.type,
        str(m.attempts),
        m.error or "-",
    )


# -- requeue -----------------------------------------------------------------------------------


@click.command("requeue")
@click.argument("message_id", metavar="ID", type=ID, required=False)
@click.option("--all", "every", is_flag=True, help="Requeue every dead letter.")
@click.option(
    "--actor",
    type=NAME,
    multiple=True,
    callback=once,
    help="Requeue the dead letters to this actor.",
)
@click.option(
    "--type",
    "type_",
    type=FILTER_TEXT,
    multiple=True,
    callback=once,
    help="Requeue the dead letters of this type.",
)
@click.option(
    "--since",
    type=TIME,
    multiple=True,
    callback=once,
    help="Requeue the dead letters created at or after TIME.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be requeued; change nothing.")
@journal_option
@json_option
def requeue_command(
    message_id: str | None,
    every: bool,
    actor: str | None,
    type_: str | None,
    since: float | None,
    dry_run: bool,
    journal_path: Journal,
    as_json: bool,
) -> None:
    """Make dead letters pending again, their attempts reset (writes to the journal).

    Give the ID of one dead letter, or choose many: --all, or any of --actor, --type and
    --since (together: the dead letters matching all of them). --dry-run lists what would be
    requeued and changes nothing. One transaction sets each message's status to pending, its
    attempts to 0, clears its error and traceback, and leaves a notice for a running system
    (J11), which the command then wakes: a system running on this journal delivers the messages
    at once, else the next one started. --json prints one line: "dry_run", "count", "messages"
    (each as `journal messages --json` prints it) and "woken".
    """
    filtered = actor is not None or type_ is not None or since is not None
    if message_id is not None and (every or filtered):
        raise click.UsageError("give an ID, or --all / --actor / --type / --since, not both")
    if every and filtered:
        raise click.UsageError("--all requeues every dead letter: drop --actor/--type/--since")
    if message_id is None and not (every or filtered):
        raise click.UsageError(
            "give the ID of a dead letter, or choose them with --all, --actor, --type or --since"
        )
    if message_id is not None:
        chosen = _one(journal_path, message_id, dry_run=dry_run)
    else:
        filters = DeadLetterFilters(actor=actor, type=type_, since=since)
        if dry_run:
            with open_journal(journal_path) as j:
                chosen = list(reversed(j.dead_letters(limit=2**63 - 1, filters=filters)))
        else:
            chosen = requeue_dead(journal_path, filters, where_from=where_from())
    woken = None if dry_run or not chosen else wake(journal_path)
    out = Output()
    if as_json:
        out.json(
            {
                "dry_run": dry_run,
                "count": len(chosen),
                "messages": [message_summary(m) for m in chosen],
                "woken": woken,
            }
        )
    elif dry_run:
        _say_what_would_happen(out, chosen)
    elif message_id is not None:
        (before,) = chosen
        out.line(
            f"requeued {before.id} ({before.type} to {before.recipient}, dead after"
            f" {_count(before.attempts, 'attempt')}): pending again; " + _woken(bool(woken))
        )
    elif not chosen:
        out.line("no dead letters match: nothing was requeued")
    else:
        out.line(
            f"requeued {_count(len(chosen), 'dead letter')} ({_by_actor(chosen)}): pending"
            " again, attempts reset; " + _woken(bool(woken), _them(chosen))
        )


def _one(journal_path: Journal, message_id: str, *, dry_run: bool) -> list[MessageRecord]:
    if not dry_run:
        return [requeue(journal_path, message_id, where_from=where_from())]
    with open_journal(journal_path) as j:
        found = j.message(message_id)
    if found is None:
        raise unknown_message(journal_path, message_id)
    if found.status != "dead":
        raise not_dead(message_id, found.status)
    return [found]


def _say_what_would_happen(out: Output, chosen: list[MessageRecord]) -> None:
    if not chosen:
        out.line("no dead letters match: nothing would be requeued")
        return
    out.line(
        f"would requeue {_count(len(chosen), 'dead letter')} ({_by_actor(chosen)}); nothing"
        f" was changed (run again without --dry-run to requeue {_them(chosen)}):"
    )
    out.table(_DEAD_COLUMNS, (_dead_row(m) for m in chosen))


def _by_actor(chosen: list[MessageRecord]) -> str:
    counts = Counter(m.recipient for m in chosen)
    return ", ".join(f"{n:,} to {actor}" for actor, n in sorted(counts.items()))


def _them(chosen: list[MessageRecord]) -> str:
    return "it" if len(chosen) == 1 else "them"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _woken(woken: bool, them: str = "it") -> str:
    if woken:
        return f"the system running on this journal was woken to deliver {them}"
    return (
        f"no running system was woken (one running on this journal takes {them} in within a"
        f" second; else the next one started on it delivers {them})"
    )
