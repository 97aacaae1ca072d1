"""``actorflow journal conversations``: one row per conversation, newest first (U1, P2).

Read-only. A conversation is counted from its messages: how many there are, how many have each
status (whatever statuses they have), when the first was created and when the last thing
happened in it (a message created or done).
"""

from __future__ import annotations

from typing import Any, Final, get_args

import click

from ..journal import ConversationFilters, ConversationSummary, MessageStatus, duration
from ._options import Journal, journal_option, json_option, limit_option, once, open_journal
from ._output import Column, Output, iso_time, table_time
from ._params import NAME, TIME

__all__ = ["STATUSES", "conversations", "status_counts"]

STATUSES: Final[tuple[str, ...]] = get_args(MessageStatus)
"""The statuses a message can have, in the order the CLI lists them."""

_COLUMNS: Final = (
    Column("conversation", key=True),
    Column("first actor"),
    Column("messages", "right"),
    Column("statuses"),
    Column("started (UTC)"),
    Column("last (UTC)"),
    Column("took", "right"),
)


@click.command()
@journal_option
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    multiple=True,
    callback=once,
    help="Only conversations with at least one message of this status.",
)
@click.option(
    "--actor",
    type=NAME,
    multiple=True,
    callback=once,
    help="Only conversations with a message sent to or by ACTOR.",
)
@click.option(
    "--since",
    type=TIME,
    multiple=True,
    callback=once,
    help="Only conversations started at or after TIME.",
)
@click.option(
    "--until",
    type=TIME,
    multiple=True,
    callback=once,
    help="Only conversations started before TIME.",
)
@limit_option(50, "conversations")
@json_option
def conversations(
    journal_path: Journal,
    status: Any,
    actor: str | None,
    since: float | None,
    until: float | None,
    limit: int,
    as_json: bool,
) -> None:
    """Conversations, the latest started first: one row each, with its messages counted.

    Per conversation: its id (give it to `journal conversation ID`), the actor its first message
    went to, how many messages it has and how many of them have each status, when it started,
    when the last of its messages was created or done, and how long that took. TIME is an ISO
    8601 time (UTC when it has no zone) or a duration ago: 30s, 10m, 2h, 3d, 1w, 1h30m.
    """
    filters = ConversationFilters(status=status, actor=actor, since=since, until=until)
    with open_journal(journal_path) as j:
        found = j.conversations(filters, limit=limit)
    out = Output()
    if as_json:
        for c in found:
            out.json(conversation_json(c))
    elif found:
        out.table(_COLUMNS, (_row(c) for c in found))
    else:
        out.line("no conversations match")


def status_counts(statuses: dict[str, int]) -> str:
    """``3 done, 1 dead``: the counts of the statuses present, the known ones in order."""
    order = {status: i for i, status in enumerate(STATUSES)}
    ranked = sorted(statuses.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
    return ", ".join(f"{count:,} {status}" for status, count in ranked)


def conversation_json(c: ConversationSummary) -> dict[str, Any]:
    return {
        "id": c.id,
        "first_message": c.first_message,
        "first_actor": c.first_actor,
        "messages": c.messages,
        "statuses": c.statuses,
        "first_at": iso_time(c.first_at),
        "last_at": iso_time(c.last_at),
        "duration_ms": round(c.duration * 1000, 3),
    }


def _row(c: ConversationSummary) -> tuple[str, ...]:
    return (
        c.id,
        c.first_actor,
        f"{c.messages:,}",
        status_counts(c.statuses),
        table_time(c.first_at),
        table_time(c.last_at),
        duration(c.duration),
    )
