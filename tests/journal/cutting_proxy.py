"""A connection to a real PostgreSQL server cut at the one moment no timing can hit: after the
server has run (and, in autocommit, committed) a statement, before its answer reaches the
client (J2, J11).

`cutting_proxy` forwards TCP connections on 127.0.0.1 to the server's Unix socket, byte for
byte. `CuttingProxy.cut_after(marker)` arms it once: the next connection whose client sends
`marker` (a piece of the statement's text, which psycopg sends in its Parse message) is closed
on both sides as soon as the server answers, and the answer is dropped. The client sees the
server hang up, exactly as when a link goes down or a server dies right after a commit.
`CuttingProxy.hold_after(marker)` keeps that answer instead, the connection open and silent
(a link that stopped carrying anything), and sets `CuttingProxy.held`: the moment to cancel
the caller waiting for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import psycopg
from anyio.abc import SocketStream

from .postgres_server import PostgresServer

__all__ = ["CuttingProxy", "cutting_proxy"]

_CHUNK = 1 << 16


class _Doom:
    """What becomes of one connection's answers: the markers it has still to send, and whether
    its next answer is lost (`armed`) or kept (`hold`)."""

    def __init__(self) -> None:
        self.rest: tuple[bytes, ...] = ()
        self.armed = False
        self.hold = False


class CuttingProxy:
    """What the proxy is told (`cut_after`, `hold_after`) and did (`cuts`, `held`); `url`
    leads through it."""

    def __init__(self, socket_path: Path, url: str) -> None:
        self.socket_path = socket_path
        self.url = url
        self.markers: tuple[bytes, ...] = ()
        self.hold = False
        self.cuts = 0
        self.held = anyio.Event()

    def cut_after(self, *markers: bytes) -> None:
        """Cut the next connection that sends `markers`, in that order, once the answer to the
        last comes back (``b"DELETE ...", b"COMMIT"``: after an explicit transaction's commit)."""
        self.markers, self.hold = markers, False

    def hold_after(self, *markers: bytes) -> None:
        """Keep the answer to the last of `markers` (as `cut_after`), and say so (`held`)."""
        self.markers, self.hold = markers, True

    async def serve(self, client: SocketStream) -> None:
        async with client, await anyio.connect_unix(self.socket_path) as server:
            doom = _Doom()
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._up, client, server, doom, tg.cancel_scope)
                tg.start_soon(self._down, server, client, doom, tg.cancel_scope)

    async def _up(
        self, client: SocketStream, server: SocketStream, doom: _Doom, scope: anyio.CancelScope
    ) -> None:
        seen = b""  # the end of the last chunk: a marker split across two reads still matches
        with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
            while True:
                chunk = await client.receive(_CHUNK)
                sent = seen + chunk
                if not doom.rest and not doom.armed and self.markers and self.markers[0] in sent:
                    doom.rest, doom.hold, self.markers = self.markers, self.hold, ()
                while doom.rest and (at := sent.find(doom.rest[0])) >= 0:  # in their order
                    sent = sent[at + len(doom.rest[0]) :]
                    doom.rest = doom.rest[1:]
                    doom.armed = not doom.rest
                seen = sent[-256:]
                await server.send(chunk)
        scope.cancel()  # the client hung up: so does the server's side

    async def _down(
        self,
        server: SocketStream,
        client: SocketStream,
        doom: _Doom,
        scope: anyio.CancelScope,
    ) -> None:
        with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
            while True:
                chunk = await server.receive(_CHUNK)
                if doom.armed:  # the statement has run: its answer is lost on the way
                    if doom.hold:
                        self.held.set()
                        await anyio.sleep_forever()  # silent until the proxy closes
                    self.cuts += 1
                    break
                await client.send(chunk)
        scope.cancel()  # both ways end: the stream contexts close both sockets


@contextlib.asynccontextmanager
async def cutting_proxy(postgres: PostgresServer, url: str) -> AsyncIterator[CuttingProxy]:
    """A proxy to `postgres`, and (as `CuttingProxy.url`) journal URL `url` rewritten to go
    through it."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    params = psycopg.conninfo.conninfo_to_dict(url)
    params.update(host="127.0.0.1", port=str(port), sslmode="disable")
    proxy = CuttingProxy(
        postgres.root / f".s.PGSQL.{postgres.port}", psycopg.conninfo.make_conninfo("", **params)
    )
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, proxy.serve)
        try:
            yield proxy
        finally:
            tg.cancel_scope.cancel()
