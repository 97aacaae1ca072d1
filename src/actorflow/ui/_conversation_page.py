"""One conversation: its messages as a tree across actors (who caused what), or as a timeline."""

from __future__ import annotations

from typing import Final

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..journal import (
    ConversationNode,
    JournalReader,
    MessageRecord,
    StepRecord,
    conversation_tree,
    duration,
)
from ._filters import only
from ._format import count, utc
from ._html import Html, tag
from ._layout import form, page, status_badge
from ._parts import NOTICE_PARAMETERS, conversation_url, message_link, notice, table, took
from ._problems import NotFound
from ._reading import read
from ._settings import UiSettings
from ._timeline import bars, waterfall

__all__ = ["MAX_MESSAGES", "conversation_page", "timeline_page"]

MAX_MESSAGES: Final = 2000
"""Messages of one conversation drawn on a page; a longer one says how many are left out."""

_GUIDE_DEPTH: Final = 24
"""Tree levels drawn as guides; deeper rows show their depth as a number instead."""


class _Conversation(msgspec.Struct, frozen=True):
    key: str
    records: list[MessageRecord]
    steps: dict[str, list[StepRecord]]


async def conversation_page(request: Request) -> HTMLResponse:
    settings: UiSettings = request.app.state.settings
    only(request.query_params, NOTICE_PARAMETERS)
    said = notice(request.query_params)
    found = await _load(settings, request.path_params["id"])
    shown = found.records[:MAX_MESSAGES]
    rows = _tree_rows(conversation_tree(shown))
    start = min(m.created_at for m in shown)
    tree = table(
        ("message", "type", "sender → recipient", "status", "attempts", "after", "took"),
        (
            (
                Html(tag("span", guide, class_="guide") + message_link(m.id)),
                m.type,
                f"{m.sender or '-'} → {m.recipient}",
                status_badge(m.status),
                str(m.attempts),
                "+" + duration(m.created_at - start),
                took(m),
            )
            for guide, m in rows
        ),
        numeric=(4, 5, 6),
        empty="no messages",
        id_="tree",
    )
    body = (
        said,
        _headline(found),
        _cancel(settings, found),
        _tabs(found.key, "tree"),
        _cut(found),
        tree,
    )
    return HTMLResponse(page(settings, f"Conversation {found.key}", body, current="conversations"))


async def timeline_page(request: Request) -> HTMLResponse:
    settings: UiSettings = request.app.state.settings
    only(request.query_params, ())
    found = await _load(settings, request.path_params["id"])
    rows, length = bars(found.records[:MAX_MESSAGES], found.steps)
    body = (
        _headline(found),
        _tabs(found.key, "timeline"),
        _cut(found),
        tag(
            "p",
            "Each bar runs from when its message was sent to when it was done; a step's bar ends"
            " when its result was recorded. Click a bar for the message.",
            class_="hint",
        ),
        waterfall(rows, length),
    )
    return HTMLResponse(
        page(settings, f"Conversation {found.key}: timeline", body, current="conversations")
    )


async def _load(settings: UiSettings, key: str) -> _Conversation:
    def query(reader: JournalReader) -> tuple[list[MessageRecord], list[StepRecord]]:
        # Each is read from one committed state (a step of a message not among the records,
        # committed in between, has no row to go under and is left out).
        return reader.conversation(key), reader.conversation_steps(key)

    records, steps = await read(settings, query)
    if not records:
        raise NotFound(
            f"no conversation or message with id {key!r} in {settings.journal_name};"
            " find conversations in the list"
        )
    first = records[0]
    name = first.conversation if first.conversation is not None else first.id
    by_message: dict[str, list[StepRecord]] = {}
    for step in steps:
        by_message.setdefault(step.message_id, []).append(step)
    return _Conversation(name, records, by_message)


def _headline(c: _Conversation) -> Html:
    records = c.records
    actors = {m.recipient for m in records} | {m.sender for m in records if m.sender}
    counts = ", ".join(
        f"{sum(m.status == status for m in records):,} {status}"
        for status in ("done", "pending", "dead", "cancelled")
        if status != "cancelled" or any(m.status == status for m in records)
    )
    start = min(m.created_at for m in records)
    ends = [m.done_at for m in records if m.done_at is not None]
    span = f", {duration(max(ends) - start)} until the last was done" if ends else ""
    return tag(
        "p",
        f"{count(len(records), 'message')} across {count(len(actors), 'actor')},"
        f" from {utc(start)}{span}; {counts}",
        class_="headline",
    )


def _cancel(settings: UiSettings, c: _Conversation) -> Html | None:
    """The cancel button (its timers are not read here: the button is there whenever writes
    are allowed), or, read-only, a hint when messages are pending."""
    if settings.allow_writes:
        return form(
            settings,
            "/actions/cancel",
            "Cancel its pending messages and timers",
            conversation=c.key,
        )
    if not any(m.status == "pending" for m in c.records):
        return None
    return tag(
        "p",
        "It has pending messages: start the UI with --allow-writes to cancel them and its"
        f" timers (or: actorflow journal cancel {c.key}).",
        class_="hint",
    )


def _tabs(key: str, current: str) -> Html:
    return tag(
        "nav",
        [
            tag(
                "a",
                label,
                href=conversation_url(key, view=view),
                class_="current" if view == current else None,
            )
            for view, label in (("tree", "Tree"), ("timeline", "Timeline"))
        ],
        class_="tabs",
    )


def _cut(c: _Conversation) -> Html | None:
    if len(c.records) <= MAX_MESSAGES:
        return None
    return tag(
        "p",
        f"Showing the first {MAX_MESSAGES:,} of {len(c.records):,} messages; see the rest with:"
        f" actorflow journal conversation {c.key}",
        class_="notice",
    )


def _tree_rows(roots: list[ConversationNode]) -> list[tuple[str, MessageRecord]]:
    """The tree's rows, depth first, each with the guide that draws its place in the tree."""
    rows: list[tuple[str, MessageRecord]] = []
    stack: list[tuple[ConversationNode, tuple[str, ...], str]] = [
        (root, (), "") for root in reversed(roots)
    ]  # not recursive: a long exchange is a deep tree
    while stack:
        node, above, branch = stack.pop()
        rows.append((_guide(above, branch), node.message))
        last = len(node.children) - 1
        inner = (*above, "   " if branch in ("", "└─ ") else "│  ") if branch else above
        for i, child in reversed(list(enumerate(node.children))):
            stack.append((child, inner, "└─ " if i == last else "├─ "))
    return rows


def _guide(above: tuple[str, ...], branch: str) -> str:
    if len(above) <= _GUIDE_DEPTH:
        return "".join(above) + branch
    return f"⋯ depth {len(above) + 1} " + "".join(above[-_GUIDE_DEPTH:]) + branch
