"""Pending durable timers (J6): what each will send to whom, and when it is due."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..journal import JournalReader, duration
from ._filters import only
from ._format import count, utc
from ._html import tag
from ._layout import page
from ._parts import conversation_link, table
from ._reading import read
from ._settings import UiSettings

__all__ = ["timers_page"]


async def timers_page(request: Request) -> HTMLResponse:
    settings: UiSettings = request.app.state.settings
    only(request.query_params, ())
    timers = await read(settings, JournalReader.timers)
    now = time.time()
    rows = (
        (
            tag("span", t.id, class_="id"),
            t.message.recipient,
            t.message.type,
            utc(t.due_at),
            f"in {duration(t.due_at - now)}" if t.due_at >= now else "due (overdue)",
            conversation_link(t.message.conversation),
            utc(t.message.created_at),
        )
        for t in timers
    )
    body = (
        tag("p", f"{count(len(timers), 'pending timer')}, the soonest first", class_="headline"),
        table(
            ("timer", "actor", "message type", "due", "", "conversation", "set"),
            rows,
            empty="no pending timers",
            id_="timers",
        ),
    )
    return HTMLResponse(page(settings, "Timers", body, current="timers"))
