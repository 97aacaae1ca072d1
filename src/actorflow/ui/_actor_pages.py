"""Durable actors: the list with pending counts, and one actor's decoded state."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .. import ActorNotFound
from ..journal import ActorRecord, ActorSummary, JournalReader, MessageFilters, MessageRecord
from ._filters import only
from ._format import count, path_id, utc
from ._html import tag
from ._layout import page, status_badge
from ._parts import conversation_link, definition_list, json_block, message_link, table
from ._problems import NotFound
from ._reading import read
from ._settings import UiSettings

__all__ = ["actor_page", "actors_page"]

_PENDING_SHOWN = 50


def actor_url(name: str) -> str:
    return f"/actors/{path_id(name)}"


async def actors_page(request: Request) -> HTMLResponse:
    settings: UiSettings = request.app.state.settings
    only(request.query_params, ())
    summaries = await read(settings, JournalReader.actor_summaries)
    rows = (
        (
            tag("a", a.name, href=actor_url(a.name), class_="id"),
            a.kind,
            _state_size(a),
            f"{a.pending:,}",
            f"{a.handled:,}",
            utc(a.updated_at),
        )
        for a in summaries
    )
    body = (
        tag("p", count(len(summaries), "durable actor"), class_="headline"),
        table(
            ("name", "kind", "state bytes", "pending", "handled", "last activity"),
            rows,
            numeric=(2, 3, 4),
            empty="no durable actors in this journal",
            id_="actors",
        ),
    )
    return HTMLResponse(page(settings, "Actors", body, current="actors"))


class _Actor(msgspec.Struct, frozen=True):
    record: ActorRecord
    pending: list[MessageRecord]


async def actor_page(request: Request) -> HTMLResponse:
    settings: UiSettings = request.app.state.settings
    only(request.query_params, ())
    name = request.path_params["name"]

    def query(reader: JournalReader) -> _Actor | None:
        with reader.snapshot():
            try:
                record = reader.actor(name)
            except ActorNotFound:
                return None
            pending = reader.messages(
                MessageFilters(actor=name, status="pending"), limit=_PENDING_SHOWN
            )
            return _Actor(record, pending)

    found = await read(settings, query)
    if found is None:
        raise NotFound(f"no actor named {name!r} in {settings.journal_name}")
    a = found.record
    body = (
        definition_list(
            [
                ("kind", a.kind),
                ("supervisor", a.supervisor or "-"),
                ("handled", f"{a.handled:,}"),
                ("created", utc(a.created_at)),
                ("last activity", utc(a.updated_at)),
            ]
        ),
        tag("h2", "State"),
        json_block(a.state, what="state"),
        tag("h2", "Constructor arguments"),
        json_block(a.args, what="arguments"),
        tag("h2", f"Pending messages to or from it (newest {_PENDING_SHOWN})"),
        table(
            ("message", "type", "sender → recipient", "conversation", "status", "created"),
            (
                (
                    message_link(m.id),
                    m.type,
                    f"{m.sender or '-'} → {m.recipient}",
                    conversation_link(m.conversation),
                    status_badge(m.status),
                    utc(m.created_at),
                )
                for m in found.pending
            ),
            empty="nothing pending",
        ),
    )
    return HTMLResponse(page(settings, f"Actor {a.name}", body, current="actors"))


def _state_size(a: ActorSummary) -> str:
    if a.state_bytes is None:
        return "-"
    return f"{a.state_bytes:,} (undecodable)" if a.state_error is not None else f"{a.state_bytes:,}"
