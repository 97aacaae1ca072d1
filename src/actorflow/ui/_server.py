"""Serving the UI with uvicorn on a socket bound beforehand (so a taken port is one error)."""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

from ._app import create_app
from ._settings import UiSettings

__all__ = ["bind", "serve"]


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host`:`port` (0: any free port); raises `OSError`."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def serve(
    settings: UiSettings,
    sock: socket.socket,
    *,
    loopback_only: bool,
    ready: Callable[[], None] = lambda: None,
) -> None:
    """Serve the UI on `sock` until interrupted (Ctrl-C or SIGTERM stop it gracefully).

    `ready` is called once the server answers requests and stops on a signal.
    """
    app = create_app(settings, loopback_only=loopback_only)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    _Server(config, ready).run(sockets=[sock])


class _Server(uvicorn.Server):
    """uvicorn's server, saying when it has started (its signal handlers are in place then)."""

    def __init__(self, config: uvicorn.Config, ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._ready()
