"""A connection to a real PostgreSQL server cut at the one moment no timing can hit: after the
server has run (and, in autocommit, committed) a statement, before its answer reaches the
client (J2, J11).

`cutting_proxy` forwards TCP connections on 127.0.0.1 to the server's own port there, byte
for byte (TCP both ways: anyio's Unix socket stream, which waits with `add_reader`, can see
its wake-up land on a cancelled future under uvloop, which the tests count as an error).

`CuttingProxy.cut_after(marker)` arms it once: the next connection whose client sends `marker`
(a piece of the statement's text, which psycopg sends in its Parse message) is closed on both
sides as soon as the server answers, and the answer is dropped. The client sees the server
hang up, exactly as when a link goes down or a server dies right after a commit. With
``down=True`` the link then stays down: every new connection is closed at once, as by a
partition, until `CuttingProxy.up`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
import psycopg
from anyio.abc import SocketStream

from .postgres_server import PostgresServer

__all__ = ["CuttingProxy", "cutting_proxy"]

_CHUNK = 1 << 16


class _Doom:
    """What becomes of one connection's answers: the markers it has still to send, whether its
    next answer is lost (`armed`), and whether the link stays down after (`down`)."""

    def __init__(self) -> None:
        self.rest: tuple[bytes, ...] = ()
        self.armed = False
        self.down = False


class CuttingProxy:
    """What the proxy is told (`cut_after`, `up`) and did (`cuts`, `refused`); `url` leads
    through it."""

    def __init__(self, port: int, url: str) -> None:
        self.port = port
        self.url = url
        self.markers: tuple[bytes, ...] = ()
        self.stay_down = False
        self.down = False
        self.cuts = 0
        self.refused = 0

    def cut_after(self, *markers: bytes, down: bool = False) -> None:
        """Cut the next connection that sends `markers`, in that order, once the answer to the
        last comes back (``b"DELETE ...", b"COMMIT"``: after an explicit transaction's commit);
        with `down`, refuse every connection from then on until `up`."""
        self.markers, self.stay_down = markers, down

    def up(self) -> None:
        """The link is back: connections go through again."""
        self.down = False

    async def serve(self, client: SocketStream) -> None:
        if self.down:
            self.refused += 1
            await client.aclose()
            return
        async with client, await anyio.connect_tcp("127.0.0.1", self.port) as server:
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
                    doom.rest, doom.down, self.markers = self.markers, self.stay_down, ()
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
                    self.cuts += 1
                    self.down = doom.down
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
    proxy = CuttingProxy(postgres.port, psycopg.conninfo.make_conninfo("", **params))
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, proxy.serve)
        try:
            yield proxy
        finally:
            tg.cancel_scope.cancel()
