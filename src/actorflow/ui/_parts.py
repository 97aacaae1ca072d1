"""Pieces several pages share: tables, links to messages and conversations, shown JSON."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from ..journal import MessageRecord, duration
from ._format import count, decoded, path_id
from ._html import Html, tag
from ._problems import BadParameter

__all__ = [
    "NOTICE_PARAMETERS",
    "conversation_link",
    "conversation_url",
    "definition_list",
    "json_block",
    "message_link",
    "message_url",
    "notice",
    "table",
    "took",
]


NOTICE_PARAMETERS: Final = ("done", "cancelled")
"""What a page may be told after a write sent the browser back to it."""


def notice(params: Mapping[str, str]) -> Html | None:
    """What a write did, from the parameters it sent the browser back with, or None.

    ``done=requeued``, or ``cancelled=N`` (how many messages and timers were cancelled).
    """
    done = params.get("done")
    cancelled = params.get("cancelled")
    if done is not None and done != "requeued":
        raise BadParameter("done", f"{done!r} is not requeued")
    if cancelled is not None and not cancelled.isdigit():
        raise BadParameter("cancelled", f"{cancelled!r} is not a count")
    if done is not None:
        return tag("p", "Requeued: the message is pending again.", class_="notice")
    if cancelled is not None:
        n = int(cancelled)
        text = (
            f"Cancelled {count(n, 'pending message or timer')}: never handled, kept for the record."
            if n
            else "Nothing was pending, so nothing was cancelled."
        )
        return tag("p", text, class_="notice")
    return None


def message_url(message_id: str) -> str:
    return f"/messages/{path_id(message_id)}"


def conversation_url(key: str, *, view: str = "tree") -> str:
    base = f"/conversations/{path_id(key)}"
    return base if view == "tree" else f"{base}/timeline"


def message_link(message_id: str) -> Html:
    return tag("a", message_id, href=message_url(message_id), class_="id")


def conversation_link(key: str | None) -> Html | str:
    return "-" if key is None else tag("a", key, href=conversation_url(key), class_="id")


def took(m: MessageRecord) -> str:
    return "-" if m.done_at is None else duration(m.done_at - m.created_at)


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    empty: str,
    numeric: Iterable[int] = (),
    id_: str | None = None,
) -> Html:
    """A table; `numeric` are the indexes of right-aligned columns; `empty` shown for no rows."""
    right = set(numeric)
    body = [
        tag(
            "tr",
            [tag("td", cell, class_="num" if i in right else None) for i, cell in enumerate(row)],
        )
        for row in rows
    ]
    if not body:
        return tag("p", empty, class_="empty", id=id_)
    head = tag(
        "tr", [tag("th", h, class_="num" if i in right else None) for i, h in enumerate(headers)]
    )
    return tag("table", tag("thead", head), tag("tbody", body), id=id_)


def definition_list(items: Iterable[tuple[str, object]]) -> Html:
    return tag("dl", [(tag("dt", name), tag("dd", value)) for name, value in items])


def json_block(data: bytes | None, *, what: str) -> Html:
    """Stored msgpack shown as JSON, or why it cannot be."""
    text, problem = decoded(data)
    if problem is not None:
        return tag(
            "p", f"({what} of {len(data or b''):,} bytes not shown: {problem})", class_="bad"
        )
    if text is None:
        return tag("p", "none", class_="empty")
    return tag("pre", text, class_="json")
