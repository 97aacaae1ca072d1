"""The conversations list, newest first, with filters, refreshing itself while a system runs;
and the small JSON answer it polls to learn whether it changed."""

from __future__ import annotations

import hashlib
from typing import Any, Final, cast
from urllib.parse import urlencode

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from ..journal import (
    ConversationFilters,
    ConversationSummary,
    JournalReader,
    MessageStatus,
    duration,
)
from ._filters import STATUSES, ListFilters, list_filters
from ._format import utc
from ._html import Html, tag
from ._layout import page, status_badge
from ._parts import conversation_link, conversation_url, table
from ._reading import read
from ._settings import UiSettings

__all__ = ["conversations_json", "conversations_page"]

_ORDER: Final = ("pending", "dead", "done", "cancelled")
"""The order status counts are shown in: what needs attention first."""


async def conversations_page(request: Request) -> HTMLResponse:
    settings: UiSettings = request.app.state.settings
    filters = list_filters(request.query_params)
    rows = await _load(settings, filters)
    poll = "/api/conversations" + (f"?{urlencode(filters.given)}" if filters.given else "")
    listing = tag(
        "div",
        table(
            ("conversation", "first actor", "statuses", "messages", "started", "last", "took", ""),
            (
                (
                    conversation_link(c.id),
                    c.first_actor,
                    _statuses(c),
                    f"{c.messages:,}",
                    utc(c.first_at),
                    utc(c.last_at),
                    duration(c.duration),
                    tag("a", "timeline", href=conversation_url(c.id, view="timeline")),
                )
                for c in rows
            ),
            numeric=(3, 6),
            empty="no conversation matches" if filters.given else "no conversations yet",
            id_="conversations",
        ),
        id="live",
        data_live=True,
        data_poll=poll,
        data_every=f"{settings.refresh_seconds:g}",
        data_fingerprint=fingerprint(rows),
    )
    body = (
        _form(filters),
        tag(
            "p",
            f"The newest {len(rows):,} conversations (at most {filters.limit:,}), newest first. ",
            tag("span", "live", id="live-status", class_="live"),
            class_="headline",
        ),
        listing,
    )
    return HTMLResponse(page(settings, "Conversations", body, current="conversations"))


async def conversations_json(request: Request) -> JSONResponse:
    """The list as JSON, with the fingerprint the page compares against its own."""
    settings: UiSettings = request.app.state.settings
    rows = await _load(settings, list_filters(request.query_params))
    return JSONResponse(
        {"fingerprint": fingerprint(rows), "conversations": [_json(c) for c in rows]}
    )


async def _load(settings: UiSettings, filters: ListFilters) -> list[ConversationSummary]:
    wanted = ConversationFilters(
        status=cast("MessageStatus | None", filters.status),
        actor=filters.actor,
        since=filters.since,
        until=filters.until,
    )

    def query(reader: JournalReader) -> list[ConversationSummary]:
        return reader.conversations(wanted, limit=filters.limit)

    return await read(settings, query)


def fingerprint(rows: list[ConversationSummary]) -> str:
    """A short digest of what the list shows: it changes when any row does."""
    return hashlib.sha256(msgspec.json.encode(rows)).hexdigest()[:20]


def _statuses(c: ConversationSummary) -> Html:
    ordered = sorted(c.statuses.items(), key=lambda kv: (_rank(kv[0]), kv[0]))
    return tag(
        "span", [(status_badge(f"{n:,} {status}"), " ") for status, n in ordered], class_="counts"
    )


def _rank(status: str) -> int:
    return _ORDER.index(status) if status in _ORDER else len(_ORDER)


def _json(c: ConversationSummary) -> dict[str, Any]:
    return {
        "id": c.id,
        "first_message": c.first_message,
        "first_actor": c.first_actor,
        "statuses": c.statuses,
        "messages": c.messages,
        "first_at": c.first_at,
        "last_at": c.last_at,
        "duration": c.duration,
    }


def _form(filters: ListFilters) -> Html:
    given = filters.given
    choices = [tag("option", "any", value="")] + [
        tag("option", s, value=s, selected=given.get("status") == s) for s in STATUSES
    ]
    fields = [
        tag("label", "status", tag("select", choices, name="status")),
        *(
            tag(
                "label",
                name,
                tag("input", name=name, value=given.get(name, ""), placeholder=hint),
            )
            for name, hint in (
                ("actor", "sent to or by"),
                ("since", "10m, 2h, 2025-01-31T12:00"),
                ("until", "ISO time or duration ago"),
                ("limit", "50"),
            )
        ),
        tag("button", "Filter", type="submit"),
        tag("a", "clear", href="/") if given else None,
    ]
    return tag("form", fields, method="get", action="/", class_="filters")
