"""``actorflow journal dead|requeue``: dead letters with their errors, and sending one again
(S7, P2)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import click

from ..journal import requeue
from ..journal._wake import wake
from ._options import journal_option, json_option, limit_option, open_journal, where_from
from ._output import Column, Output, message_full, table_time
from ._params import ID

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
def dead(journal_path: Path, limit: int, as_json: bool) -> None:
    """Dead letters, newest first, with their errors (see `show ID` for the traceback)."""
    with open_journal(journal_path) as j:
        letters = j.dead_letters(limit=limit)
    out = Output()
    if as_json:
        for m in letters:
            out.json(message_full(m))
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


@click.command("requeue")
@click.argument("message_id", metavar="ID", type=ID)
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
