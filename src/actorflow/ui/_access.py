"""Who may use the UI (U2): the access token on every request, and the Host a browser used.

With a token, a request carries it as a header (``Authorization: Bearer TOKEN``), as the
cookie the UI sets when it is opened once with ``?token=TOKEN``, or as that parameter; it is
compared in constant time. Bound to loopback, the UI answers only requests addressed to a
loopback name, so that a web page cannot reach it through a name of its own that resolves to
127.0.0.1 (DNS rebinding).
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Final
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ._html import tag
from ._layout import page
from ._settings import UiSettings

__all__ = ["COOKIE", "Gate", "is_loopback"]

COOKIE: Final = "actorflow_ui_token"


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only: ``localhost`` or a loopback address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Gate:
    """ASGI middleware that lets a request through only with the token and a known Host."""

    def __init__(self, app: ASGIApp, *, settings: UiSettings, loopback_only: bool) -> None:
        self.app = app
        self.settings = settings
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._refusal(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, request: Request) -> Response | None:
        host = (request.url.hostname or "").lower()
        if self.loopback_only and not is_loopback(host):
            return self._page(
                400,
                "Wrong host",
                "this UI is bound to loopback and answers only to localhost or a loopback"
                f" address such as 127.0.0.1, not {host!r}",
            )
        token = self.settings.token
        if token is None:
            return None
        given = request.query_params.get("token")
        if given is not None:
            if not _same(given, token):
                return self._page(401, "Wrong token", "the token in the address is wrong")
            return self._enter(request.url, token)
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and _same(credentials.strip(), token):
            return None
        cookie = request.cookies.get(COOKIE)
        if cookie is not None and _same(cookie, token):
            return None
        return self._page(
            401,
            "Token needed",
            "this UI needs its access token: open the address actorflow ui printed"
            " (it ends in ?token=...), or send the header Authorization: Bearer TOKEN",
        )

    def _enter(self, url: URL, token: str) -> Response:
        """Set the cookie and send the browser to the same address without the token in it."""
        params = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "token"]
        target = url.path + (f"?{urlencode(params)}" if params else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
        return response

    def _page(self, status: int, title: str, message: str) -> Response:
        body = page(self.settings, title, tag("p", message, class_="bad"))
        return HTMLResponse(body, status_code=status)


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), token.encode("utf-8"))
