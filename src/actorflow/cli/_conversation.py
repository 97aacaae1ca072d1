"""``actorflow journal conversation ID``: one conversation as a tree across actors (J7, P2).

Each message is drawn under the message whose handling sent it (its cause), with when it was
created relative to the conversation's first message and how long it took until done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import click

from ..journal import ConversationNode, JournalReader, MessageRecord, conversation_tree
from ._errors import Failure
from ._options import journal_option, json_option, where_from
from ._output import STATUS_STYLES, Column, Output, message_summary, table_time
from ._params import ID

__all__ = ["conversation", "duration", "tree_rows"]

_COLUMNS: Final = (
    Column("message", key=True),
    Column("type"),
    Column("sender -> recipient"),
    Column("status", styles=STATUS_STYLES),
    Column("attempts", "right"),
    Column("after", "right"),
    Column("took", "right"),
)

Row = tuple[str, int, MessageRecord]
"""One line of the tree: its guide (``├─ ``...), its depth, its message."""


@click.command()
@click.argument("key", metavar="ID", type=ID)
@journal_option
@json_option
def conversation(key: str, journal_path: Path, as_json: bool) -> None:
    """A conversation as a tree across actors: each message under the one that sent it.

    ID is a conversation id (that of the message from outside that started it) or the id of any
    message in it. Per message: type, sender -> recipient, status, attempts, when it was
    created, how long after the conversation's first message ("after"), and how long it took
    until done ("took"). --json prints one line per message, depth first, with its "depth".
    """
    with JournalReader.open(journal_path, where_from=where_from()) as j:
        records = j.conversation(key)
    if not records:
        raise Failure(
            f"no conversation or message with id {key!r} in {journal_path}; find ids with:"
            " actorflow journal messages"
        )
    rows = tree_rows(conversation_tree(records))
    start = min(m.created_at for m in records)
    out = Output()
    if as_json:
        for _, depth, m in rows:
            out.json(_json(m, depth, start))
        return
    out.line(_headline(records, start))
    out.table(_COLUMNS, [_row(guide, m, start) for guide, _, m in rows], guides=_below(rows))


def tree_rows(roots: list[ConversationNode]) -> list[Row]:
    """The tree's lines, depth first, each with the guide that draws its place in the tree."""
    rows: list[Row] = []
    stack: list[tuple[ConversationNode, str, str, int]] = [
        (root, "", "", 0) for root in reversed(roots)
    ]  # not recursive: a long exchange is a deep tree
    while stack:
        node, guide, inner, depth = stack.pop()
        rows.append((guide, depth, node.message))
        last = len(node.children) - 1
        for i, child in reversed(list(enumerate(node.children))):
            branch, below = ("└─ ", "   ") if i == last else ("├─ ", "│  ")
            stack.append((child, inner + branch, inner + below, depth + 1))
    return rows


def _below(rows: list[Row]) -> list[str]:
    """The guide of the lines under each row's own (its fields, when the tree is in blocks)."""
    guides = []
    for i, (guide, depth, _) in enumerate(rows):
        inner = guide[:-3] + ("│  " if guide.endswith("├─ ") else "   ") if guide else ""
        parent = i + 1 < len(rows) and rows[i + 1][1] > depth
        guides.append(inner + ("│  " if parent else "   "))
    return guides


def duration(seconds: float) -> str:
    """A duration for people: ``250 ms``, ``9,999 ms``, ``12.5 s``, ``4m 05s``, ``3h 07m``."""
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    if seconds < 10:
        text = f"{seconds * 1000:,.0f} ms"
    elif seconds < 120:
        text = f"{seconds:.1f} s"
    elif seconds < 7200:
        text = f"{int(seconds // 60)}m {int(seconds % 60):02d}s"
    elif seconds < 172800:
        text = f"{int(seconds // 3600)}h {int(seconds % 3600 // 60):02d}m"
    else:
        text = f"{int(seconds // 86400)}d {int(seconds % 86400 // 3600):02d}h"
    return sign + text


def _headline(records: list[MessageRecord], start: float) -> str:
    first = records[0]
    name = first.conversation if first.conversation is not None else first.id
    actors = {m.recipient for m in records} | {m.sender for m in records if m.sender}
    counts = ", ".join(
        f"{sum(m.status == status for m in records):,} {status}"
        for status in ("done", "pending", "dead", "cancelled")
        if status != "cancelled" or any(m.status == status for m in records)
    )
    return (
        f"conversation {name}: {_count(len(records), 'message')} across"
        f" {_count(len(actors), 'actor')}, from {table_time(start)} UTC; {counts}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _row(guide: str, m: MessageRecord, start: float) -> tuple[str, ...]:
    return (
        guide + m.id,
        m.type,
        f"{m.sender or '-'} -> {m.recipient}",
        m.status,
        str(m.attempts),
        "+" + duration(m.created_at - start),
        "-" if m.done_at is None else duration(m.done_at - m.created_at),
    )


def _json(m: MessageRecord, depth: int, start: float) -> dict[str, Any]:
    data = message_summary(m)
    data["depth"] = depth
    data["after_ms"] = round((m.created_at - start) * 1000, 3)
    data["took_ms"] = None if m.done_at is None else round((m.done_at - m.created_at) * 1000, 3)
    return data
