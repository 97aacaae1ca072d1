"""``actorflow journal steps``: the recorded steps of a message or a conversation (J4, U1).

Read-only. A step's result is stored as msgpack; it is shown decoded to JSON. In a table a long
result is cut to `PREVIEW` characters, and ``--full`` prints every result whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import click

from ..journal import StepRecord, decode_msgpack
from ..journal._reader import journal_name, unknown_message
from ._errors import Failure
from ._options import Journal, journal_option, json_option, open_journal
from ._output import Column, Output, iso_time, pretty_json, table_time
from ._params import ID

__all__ = ["PREVIEW", "print_steps", "step_json", "steps"]

PREVIEW: Final = 40
"""How many characters of a step's result (as compact JSON) a table shows."""

_COLUMNS: Final = (
    Column("message", key=True),
    Column("step"),
    Column("recorded (UTC)"),
    Column("bytes", "right"),
    Column("result"),
)


@click.command()
@click.argument("message_id", metavar="[MESSAGE_ID]", type=ID, required=False)
@click.option(
    "--conversation",
    "conversation_key",
    type=ID,
    metavar="ID",
    help="The steps of every message of this conversation (or of the one ID is in).",
)
@click.option("--full", is_flag=True, help=f"Print long results whole (a table cuts at {PREVIEW}).")
@journal_option
@json_option
def steps(
    message_id: str | None,
    conversation_key: str | None,
    full: bool,
    journal_path: Journal,
    as_json: bool,
) -> None:
    """The steps a message recorded (name, when, size, result decoded to JSON), in order.

    Give a MESSAGE_ID, or --conversation ID for the steps of every message of a conversation,
    message by message. A step is an outside call (an LLM, a tool) whose result the journal
    keeps so that handling the message again does not repeat it. --json prints one line per
    step with its whole result.
    """
    if (message_id is None) == (conversation_key is None):
        raise click.UsageError("give a MESSAGE_ID or --conversation ID (one of them)")
    with open_journal(journal_path) as j, j.snapshot():
        if message_id is not None:
            if j.message(message_id) is None:
                raise unknown_message(journal_path, message_id)
            found = j.steps(message_id)
            none = f"message {message_id} recorded no steps"
        else:
            assert conversation_key is not None
            if not j.conversation(conversation_key):
                raise Failure(
                    f"no conversation or message with id {conversation_key!r} in"
                    f" {journal_name(journal_path)}; find ids with: actorflow journal conversations"
                )
            found = j.conversation_steps(conversation_key)
            none = f"conversation {conversation_key} recorded no steps"
    out = Output()
    if as_json:
        for s in found:
            out.json(step_json(s))
    elif found:
        print_steps(out, found, full=full)
    else:
        out.line(none)


def step_json(s: StepRecord) -> dict[str, Any]:
    """A step as JSON: its message, name, time, size and decoded result."""
    result, problem = decode_msgpack(s.result)
    data: dict[str, Any] = {
        "message_id": s.message_id,
        "step": s.step,
        "created_at": iso_time(s.created_at),
        "bytes": len(s.result),
        "result": result,
    }
    if problem is not None:
        data["result_error"] = problem
    return data


def print_steps(out: Output, found: Sequence[StepRecord], *, full: bool) -> None:
    """A table of `found`, results cut at `PREVIEW`; with `full`, each step whole."""
    if not full:
        out.table(_COLUMNS, (_row(s) for s in found))
        return
    for i, s in enumerate(found):
        if i:
            out.line("")
        out.line(
            f"{s.step}  (message {s.message_id}, {table_time(s.created_at)} UTC,"
            f" {len(s.result):,} bytes)",
            style="bold",
        )
        result, problem = decode_msgpack(s.result)
        out.line(f"(not shown: {problem})" if result is None else pretty_json(result))


def _row(s: StepRecord) -> tuple[str, ...]:
    result, problem = decode_msgpack(s.result)
    if result is None:
        text = f"(not shown: {problem})"
    else:
        text = bytes(result).decode()
        if len(text) > PREVIEW:
            text = text[: PREVIEW - 1] + "…"
    return (s.message_id, s.step, table_time(s.created_at), f"{len(s.result):,}", text)
