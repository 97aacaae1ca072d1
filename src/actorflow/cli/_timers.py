"""``actorflow journal timers``: the durable timers that have not fired yet (J6, U1). Read-only."""

from __future__ import annotations

from typing import Any, Final

import click

from ..journal import TimerRecord, decode_msgpack
from ._options import Journal, journal_option, json_option, limit_option, open_journal
from ._output import Column, Output, iso_time, table_time

__all__ = ["timers"]

_COLUMNS: Final = (
    Column("id", key=True),
    Column("actor"),
    Column("type"),
    Column("due (UTC)"),
    Column("conversation", key=True),
)


@click.command()
@journal_option
@limit_option(50, "timers")
@json_option
def timers(journal_path: Journal, limit: int, as_json: bool) -> None:
    """Pending timers, the soonest due first: id, actor, message type, due, conversation.

    A timer is a message to be sent at its due time (ctx.schedule, system.schedule); when it
    fires the message is appended with the timer's id, and the timer goes from this list.
    --json adds its sender, cause, when it was set and the message's body decoded to JSON.
    """
    with open_journal(journal_path) as j:
        found = j.timers(limit=limit + 1)  # one more than shown: are there more?
    out = Output()
    if as_json:
        for t in found[:limit]:
            out.json(_json(t))
    elif found:
        out.table(
            _COLUMNS,
            (
                (t.id, t.message.recipient, t.message.type, table_time(t.due_at),
                 t.message.conversation or "-")
                for t in found[:limit]
            ),
        )  # fmt: skip
        if len(found) > limit:
            out.line(f"(only the {limit:,} soonest are shown; see --limit)")
    else:
        out.line("no pending timers")


def _json(t: TimerRecord) -> dict[str, Any]:
    m = t.message
    body, problem = decode_msgpack(m.body)
    data: dict[str, Any] = {
        "id": t.id,
        "recipient": m.recipient,
        "type": m.type,
        "due_at": iso_time(t.due_at),
        "created_at": iso_time(m.created_at),
        "sender": m.sender,
        "conversation": m.conversation,
        "cause": m.cause,
        "body": body,
    }
    if problem is not None:
        data["body_error"] = problem
    return data
