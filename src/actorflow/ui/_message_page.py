"""One message: what it carried, where it is in its life, why it failed, what it caused."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..journal import JournalReader, MessageRecord, StepRecord, duration
from ._filters import only
from ._format import count, utc
from ._html import Html, tag
from ._layout import form, page, status_badge
from ._parts import (
    NOTICE_PARAMETERS,
    conversation_link,
    definition_list,
    json_block,
    message_link,
    notice,
    table,
    took,
)
from ._problems import NotFound
from ._reading import read
from ._settings import UiSettings
from ._timeline import step_anchor

__all__ = ["message_page"]


class _Message(msgspec.Struct, frozen=True):
    record: MessageRecord
    children: list[MessageRecord]
    steps: list[StepRecord]


async def message_page(request: Request) -> HTMLResponse:
    settings: UiSettings = request.app.state.settings
    only(request.query_params, NOTICE_PARAMETERS)
    said = notice(request.query_params)
    message_id = request.path_params["id"]

    def query(reader: JournalReader) -> _Message | None:
        with reader.snapshot():
            record = reader.message(message_id)
            if record is None:
                return None
            return _Message(record, reader.caused_by(record), reader.steps(record.id))

    found = await read(settings, query)
    if found is None:
        raise NotFound(
            f"no message with id {message_id!r} in {settings.journal_name};"
            " find messages from the conversations list"
        )
    return HTMLResponse(render(settings, found, said))


def render(settings: UiSettings, found: _Message, said: Html | None) -> Html:
    m, children = found.record, found.children
    summary = definition_list(
        [
            ("type", m.type),
            ("status", status_badge(m.status)),
            ("sender", m.sender or "- (from outside the system)"),
            ("recipient", m.recipient),
            ("conversation", conversation_link(m.conversation)),
            ("cause", "-" if m.cause is None else message_link(m.cause)),
            ("attempts", str(m.attempts)),
            ("created", utc(m.created_at)),
            ("done", utc(m.done_at)),
            ("cancelled", _cancelled(m)),
            ("took", took(m)),
            ("sequence number", str(m.seq)),
            ("trace", m.trace or "-"),
            *(
                [("cancelled", f"{utc(m.cancelled_at)} by {m.cancelled_by or '-'}")]
                if m.cancelled_at is not None
                else []
            ),
        ]
    )
    sections: list[object] = [
        said,
        summary,
        _actions(settings, m),
        tag("h2", "Body"),
        json_block(m.body, what="body"),
    ]
    if m.corrupt is not None:
        sections.append(tag("p", f"this row could not be read whole: {m.corrupt}", class_="bad"))
    if m.error is not None or m.traceback is not None:
        sections += [
            tag("h2", "Error"),
            tag("pre", m.error or "-", class_="error"),
            tag("details", tag("summary", "traceback"), tag("pre", m.traceback), open=True)
            if m.traceback
            else None,
        ]
    sections += [
        tag("h2", f"Steps ({len(found.steps)})"),
        _steps(m, found.steps),
        tag("h2", f"Caused ({count(len(children), 'message')})"),
        table(
            ("message", "type", "recipient", "status", "took"),
            (
                (message_link(c.id), c.type, c.recipient, status_badge(c.status), took(c))
                for c in children
            ),
            empty="it sent no message",
        ),
    ]
    return page(settings, f"Message {m.id}", sections, current="conversations")


def _cancelled(m: MessageRecord) -> str:
    """When and by whom it was cancelled (``actorflow journal cancel``), or ``-``."""
    if m.cancelled_at is None:
        return "-"
    text = f"{utc(m.cancelled_at)} by {m.cancelled_by or 'someone'}"
    if m.status == "done":
        text += " (its handler was already running: it finished, and the message is done)"
    return text


def _steps(m: MessageRecord, steps: list[StepRecord]) -> Html:
    """The recorded steps (J4), each a row its timeline bar links to, results decoded."""
    if not steps:
        return tag("p", "it recorded no step", class_="empty", id="steps")
    head = tag("tr", [tag("th", h) for h in ("step", "recorded", "after", "bytes", "result")])
    rows = [
        tag(
            "tr",
            tag("td", s.step, class_="id"),
            tag("td", utc(s.created_at)),
            tag("td", "+" + duration(s.created_at - m.created_at), class_="num"),
            tag("td", f"{len(s.result):,}", class_="num"),
            tag("td", json_block(s.result, what="result")),
            id=step_anchor(s.step),
        )
        for s in steps
    ]
    return tag("table", tag("thead", head), tag("tbody", rows), id="steps", class_="steps")


def _actions(settings: UiSettings, m: MessageRecord) -> Html | None:
    if m.status == "dead":
        what, action, label, command = "A dead letter", "requeue", "Requeue", "requeue ID"
    elif m.status == "pending":
        what, action, label, command = "Pending", "cancel", "Cancel", "cancel --message ID"
    else:
        return None
    if not settings.allow_writes:
        return tag(
            "p",
            f"{what}: start the UI with --allow-writes to {action} it"
            f" (or: actorflow journal {command}).",
            class_="hint",
        )
    return form(settings, f"/actions/{action}", label, message=m.id)
