"""The web UI as an ASGI app: its routes, its error pages, its headers."""

from __future__ import annotations

from typing import Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import JournalError, JournalLocked
from ._access import Gate
from ._actor_pages import actor_page, actors_page
from ._conversation_page import conversation_page, timeline_page
from ._conversations_page import conversations_json, conversations_page
from ._dead_page import dead_page
from ._html import tag
from ._layout import page
from ._message_page import message_page
from ._problems import PageError
from ._settings import UiSettings
from ._stats_page import stats_page
from ._timers_page import timers_page
from ._writes import cancel_action, requeue_action

__all__ = ["create_app"]

_HEADERS: Final = (
    # Scripts, styles and images only from the UI itself (U2: no CDN); nothing inline.
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        b" object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)


def create_app(settings: UiSettings, *, loopback_only: bool = True) -> Starlette:
    """The UI for `settings`; `loopback_only` makes it answer only to loopback host names."""
    routes = [
        Route("/", conversations_page),
        Route("/api/conversations", conversations_json),
        Route("/actors", actors_page),
        Route("/actors/{name:path}", actor_page),
        Route("/conversations/{id:path}/timeline", timeline_page),
        Route("/conversations/{id:path}", conversation_page),
        Route("/messages/{id:path}", message_page),
        Route("/dead", dead_page),
        Route("/timers", timers_page),
        Route("/stats", stats_page),
        Route("/actions/requeue", requeue_action, methods=["POST"]),
        Route("/actions/cancel", cancel_action, methods=["POST"]),
        Mount("/assets", StaticFiles(packages=[("actorflow.ui", "assets")]), name="assets"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(_Headers),
            Middleware(Gate, settings=settings, loopback_only=loopback_only),
        ],
        exception_handlers={
            PageError: _page_error,
            JournalError: _journal_error,
            HTTPException: _http_error,
        },
    )
    app.state.settings = settings
    return app


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return _error_page(request, exc.status, exc.title, exc.message)


async def _journal_error(request: Request, exc: Exception) -> Response:
    status = 503 if isinstance(exc, JournalLocked) else 500
    return _error_page(request, status, "Cannot read the journal", str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: "no page at this address", 405: "this address does not take that method"}
    message = messages.get(exc.status_code, str(exc.detail))
    return _error_page(request, exc.status_code, str(exc.detail), message)


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    settings: UiSettings = request.app.state.settings
    return HTMLResponse(page(settings, title, tag("p", message, class_="bad")), status_code=status)


class _Headers:
    """Adds the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
