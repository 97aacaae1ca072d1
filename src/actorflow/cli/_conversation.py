"""``actorflow journal conversation ID``: one conversation as a tree across actors (J7, P2).

Each message is drawn under the message whose handling sent it (its cause), with when it was
created relative to the conversation's first message and how long it took until done.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Final

import click

from ..journal import JournalReader, MessageRecord, conversation_tree, duration
from ..journal._reader import journal_name
from ._errors import Failure
from ._options import Journal, journal_option, json_option, where_from
from ._output import STATUS_STYLES, Column, Output, message_summary, table_time
from ._params import ID
from ._tree import COLLAPSE_AT, Below, Chain, Line, More, Shown, tree_lines

__all__ = ["conversation"]

_COLUMNS: Final = (
    Column("message", key=True),
    Column("type"),
    Column("sender -> recipient"),
    Column("status", styles=STATUS_STYLES),
    Column("attempts", "right"),
    Column("after", "right"),
    Column("took", "right"),
)


@click.command()
@click.argument("key", metavar="ID", type=ID)
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    help="Draw messages down to this depth only (0: the first message); a line counts the rest.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="Draw at most this many messages; a line counts the rest.",
)
@click.option(
    "--expand",
    is_flag=True,
    help=f"Draw every message of a chain (by default a run of {COLLAPSE_AT} or more messages,"
    " each the only one the one before sent, is one line with a count).",
)
@journal_option
@json_option
def conversation(
    key: str,
    depth: int | None,
    limit: int | None,
    expand: bool,
    journal_path: Journal,
    as_json: bool,
) -> None:
    """A conversation as a tree across actors: each message under the one that sent it.

    ID is a conversation id (that of the message from outside that started it) or the id of any
    message in it. Per message: type, sender -> recipient, status, attempts, when it was
    created, how long after the conversation's first message ("after"), and how long it took
    until done ("took"). A long chain (messages each sent while handling the one before) is
    drawn as one line with a count, unless --expand. --json prints one line per message, depth
    first, with its "depth" (chains are not collapsed; --depth and --limit apply).
    """
    with JournalReader.open(journal_path, where_from=where_from()) as j:
        records = j.conversation(key)
    if not records:
        raise Failure(
            f"no conversation or message with id {key!r} in {journal_name(journal_path)}; find"
            " ids with: actorflow journal messages"
        )
    roots = conversation_tree(records)
    start = min(m.created_at for m in records)
    out = Output()
    if as_json:
        for line in tree_lines(roots, depth=depth, limit=limit, collapse=False):
            if isinstance(line, Shown):
                out.json(_json(line.message, line.depth, start))
        return
    out.line(_headline(records, start))
    lines = list(tree_lines(roots, depth=depth, limit=limit, collapse=not expand))
    more = lines[-1] if lines else None
    if isinstance(more, More):
        lines.pop()
    drawn = [line for line in lines if not isinstance(line, More)]
    out.table(_COLUMNS, [_line_row(line, start) for line in drawn], guides=_below(drawn))
    if isinstance(more, More):
        out.line(f"({_count(more.hidden, 'more message')} not shown; see --limit)")


def _below(lines: list[Shown | Chain | Below]) -> list[str]:
    """The guide of the lines under each line's own (its fields, when the tree is in blocks):
    what goes on below it, and a bar down to what it caused, if that comes next."""
    guides = []
    for i, line in enumerate(lines):
        deeper = i + 1 < len(lines) and len(lines[i + 1].guide) > len(line.guide)
        guides.append(line.below + ("│  " if deeper else "   "))
    return guides


def _headline(records: list[MessageRecord], start: float) -> str:
    first = records[0]
    name = first.conversation if first.conversation is not None else first.id
    actors = {m.recipient for m in records} | {m.sender for m in records if m.sender}
    found = Counter(m.status for m in records)
    # Always these three, then any other status the messages have.
    statuses = ["done", "pending", "dead", *sorted(set(found) - {"done", "pending", "dead"})]
    counts = ", ".join(f"{found[status]:,} {status}" for status in statuses)
    return (
        f"conversation {name}: {_count(len(records), 'message')} across"
        f" {_count(len(actors), 'actor')}, from {table_time(start)} UTC; {counts}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _line_row(line: Line, start: float) -> tuple[str, ...]:
    if isinstance(line, Shown):
        return _row(line.guide, line.message, start)
    if isinstance(line, Chain):
        return _chain_row(line, start)
    assert isinstance(line, Below), line
    return (
        f"{line.guide}{line.hidden:,} more below",
        *("",) * (len(_COLUMNS) - 1),
    )


def _chain_row(chain: Chain, start: float) -> tuple[str, ...]:
    run = chain.messages
    types = {m.type for m in run}
    actors = {m.recipient for m in run} | {m.sender for m in run if m.sender}
    statuses = Counter(m.status for m in run)
    first, last = run[0], run[-1]
    end = last.done_at if last.done_at is not None else last.created_at
    return (
        f"{chain.guide}{len(run):,} in a chain",
        next(iter(types)) if len(types) == 1 else _count(len(types), "type"),
        " <-> ".join(sorted(actors)) if len(actors) <= 2 else _count(len(actors), "actor"),
        ", ".join(f"{n:,} {status}" for status, n in statuses.most_common()),
        "",
        "+" + duration(first.created_at - start),
        duration(end - first.created_at),
    )


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
