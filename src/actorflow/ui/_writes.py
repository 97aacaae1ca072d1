"""The UI's writes (requeue, cancel; U2): POST forms only, refused unless started with writes
allowed.

Each write checks the form secret (so another site cannot make a browser post here), runs the
journal operation the CLI runs, wakes a running system (J11), and sends the browser back to
the page of what changed.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Final
from urllib.parse import parse_qs

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import MessageNotFound, MessageStatusError
from ..journal import cancel, requeue, wake
from ._parts import conversation_url, message_url
from ._problems import BadParameter, NotFound, PageError, ReadOnly
from ._settings import UiSettings

__all__ = ["cancel_action", "requeue_action"]

_MAX_FORM: Final = 16 * 1024
"""Bytes a form may have: the UI's forms hold an id and the form secret."""


class Conflict(PageError):
    """Raised when a write does not apply to the message as it is now."""

    status = 409
    title = "Conflict"


async def requeue_action(request: Request) -> Response:
    settings: UiSettings = request.app.state.settings
    fields = await _form(request, settings)
    message_id = _field(fields, "message")

    def work() -> None:
        requeue(settings.journal, message_id)
        wake(settings.journal)

    try:
        await anyio.to_thread.run_sync(work)
    except MessageNotFound as exc:
        raise NotFound(str(exc)) from exc
    except MessageStatusError as exc:
        raise Conflict(str(exc)) from exc
    return RedirectResponse(message_url(message_id) + "?done=requeued", status_code=303)


async def cancel_action(request: Request) -> Response:
    """Cancel a conversation's pending messages and timers, or one pending message or timer."""
    settings: UiSettings = request.app.state.settings
    fields = await _form(request, settings)
    given = [name for name in ("conversation", "message") if name in fields]
    if len(given) != 1:
        raise BadParameter("form", "give one of conversation or message")
    (name,) = given
    target = _field(fields, name)
    client = request.client.host if request.client is not None else "unknown"
    by = f"{client} via ui"

    def work() -> int:
        if name == "conversation":
            return cancel(settings.journal, conversation=target, by=by).count
        return cancel(settings.journal, message_id=target, by=by).count

    try:
        done = await anyio.to_thread.run_sync(work)
    except MessageNotFound as exc:
        raise NotFound(str(exc)) from exc
    back = conversation_url(target) if name == "conversation" else message_url(target)
    return RedirectResponse(f"{back}?cancelled={done}", status_code=303)


async def _form(request: Request, settings: UiSettings) -> dict[str, list[str]]:
    """The posted form, checked: writes allowed, a small urlencoded body, the form secret."""
    if not settings.allow_writes:
        raise ReadOnly(
            "this UI was started read-only, so nothing was changed; restart it with"
            " actorflow ui --allow-writes to requeue or cancel from the browser"
        )
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        raise BadParameter("content-type", f"{kind!r}: writes take an urlencoded form")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            raise BadParameter("form", f"more than {_MAX_FORM:,} bytes")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise BadParameter("form", "is not valid UTF-8") from None
    secret = _field(fields, "form_secret")
    if not hmac.compare_digest(secret.encode(), settings.form_secret.encode()):
        raise ReadOnly(
            "the form did not come from this UI (its form secret is wrong or from an earlier"
            " start): reload the page and try again; nothing was changed"
        )
    return fields


def _field(fields: Mapping[str, list[str]], name: str) -> str:
    values = fields.get(name)
    if not values or not values[0]:
        raise BadParameter(name, "missing from the form")
    if len(values) > 1:
        raise BadParameter(name, "given more than once")
    return values[0]
