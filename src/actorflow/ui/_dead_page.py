"""Dead letters (S7): messages that failed every attempt, newest first, with their errors."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..journal import JournalReader, MessageRecord
from ._filters import limit, only
from ._format import count, utc
from ._html import Html, tag
from ._layout import form, page
from ._parts import conversation_link, message_link, table
from ._reading import read
from ._settings import UiSettings

__all__ = ["dead_page"]


async def dead_page(request: Request) -> HTMLResponse:
    settings: UiSettings = request.app.state.settings
    only(request.query_params, ("limit",))
    most = limit(request.query_params.get("limit"), 100)

    def query(reader: JournalReader) -> list[MessageRecord]:
        return reader.dead_letters(limit=most)

    letters = await read(settings, query)
    headers = ["message", "type", "recipient", "conversation", "attempts", "error", "created"]
    if settings.allow_writes:
        headers.append("")
    rows = (
        (
            message_link(m.id),
            m.type,
            m.recipient,
            conversation_link(m.conversation),
            str(m.attempts),
            tag("span", _first_line(m.error), class_="error", title=m.error),
            utc(m.created_at),
            *((_requeue(settings, m),) if settings.allow_writes else ()),
        )
        for m in letters
    )
    body = (
        tag("p", f"the newest {count(len(letters), 'dead letter')}", class_="headline"),
        table(headers, rows, numeric=(4,), empty="no dead letters", id_="dead"),
    )
    return HTMLResponse(page(settings, "Dead letters", body, current="dead"))


def _requeue(settings: UiSettings, m: MessageRecord) -> Html:
    return form(settings, "/actions/requeue", "Requeue", message=m.id)


def _first_line(error: str | None) -> str:
    if not error:
        return "-"
    line = error.splitlines()[0] if error.splitlines() else error
    return line if len(line) <= 120 else line[:119] + "…"
