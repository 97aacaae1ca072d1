"""The SQLite journal's writer process: a child process with a writer connection of its own,
which makes the journal's group commits that do not run on the event loop's thread (J2, J8).

Why a process and not the writer thread: the thread's SQLite work needs the GIL for every
statement it binds and every row it steps back from, and a busy event loop holds the GIL. On
`durable_throughput` (1,000 actors, 100k messages, 2 cores) the thread and the loop did not
overlap at all: 48-53 us of loop CPU and 35-39 us of thread CPU per message took 90-100 us
(9.7-11.2k msg/s); the same commits in a child process left 52-58 us on the loop (the batch
encoded and its answer read) and ran at 14.5-16.2k msg/s.

The protocol, over the child's stdin and stdout: each frame is a 4-byte little-endian length
and a msgpack body. The parent sends a `Batch`; the child answers each with a `Reply`, in order,
and first sends one for having opened the file (or not). One commit is in flight at a time
(the journal's writer task makes them one after another).

The child ends when its stdin ends: when the journal closes it, or when the parent process
dies (a SIGKILL included), after the commit it may be making. It ignores SIGINT and SIGTERM,
which a terminal or a service manager may send to every process of the group: the parent
stops on them, and still has commits to make while it does.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import logging
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Final, final

import anyio
import anyio.to_thread
import msgspec

from .._errors import (
    JournalCorrupt,
    JournalError,
    JournalFull,
    JournalLocked,
    JournalSchemaError,
    JournalUnavailable,
)
from ._records import Batch
from ._sqlite_writer import WriterSettings

__all__ = ["Reply", "WriterProcess", "read_frame", "write_frame"]

logger = logging.getLogger("actorflow")

_LENGTH: Final = struct.Struct("<I")
_PIPE_BYTES: Final = 1 << 20  # F_SETPIPE_SZ: a group commit of 512 operations in one write
_F_SETPIPE_SZ: Final = 1031  # Linux's fcntl command; elsewhere the pipe keeps its size

# The child's program: this actorflow, found where this process found it. Its directory goes
# first on the child's path only if the child would not search it anyway (a source checkout
# put on `sys.path` by hand); a site-packages directory stays where it is, after the stdlib.
_CHILD: Final = """\
import sys
where = sys.argv.pop(1)
if where not in sys.path:
    sys.path.insert(0, where)
from actorflow.journal._writer_child import main
sys.exit(main(sys.argv[1:]))
"""

# The errors a commit can end with, by name across the pipe; any other is the child's bug.
_ERRORS: Final[dict[str, type[JournalError]]] = {
    cls.__name__: cls
    for cls in (
        JournalError,
        JournalFull,
        JournalLocked,
        JournalCorrupt,
        JournalSchemaError,
        JournalUnavailable,
    )
}


class Reply(msgspec.Struct, array_like=True, gc=False):
    """The child's answer to one frame: the appends' sequence numbers and the seconds the
    commit took, or the name and text of the error it ended with."""

    seqs: list[int | None] = []
    seconds: float = 0.0
    error: str | None = None
    message: str = ""

    def raised(self, path: Path) -> JournalError:
        kind = _ERRORS.get(self.error or "")
        if kind is None:
            return JournalError(
                f"journal {path}: its writer process failed: {self.error}: {self.message}"
            )
        return kind(self.message)


def write_frame(fd: int, body: bytes) -> None:
    """Write one frame to blocking `fd` (the child's side)."""
    view = memoryview(_LENGTH.pack(len(body)) + body)
    while view:
        view = view[os.write(fd, view) :]


def read_frame(fd: int) -> bytes | None:
    """Read one frame from blocking `fd`; None at its end (the child's side)."""
    head = _read_exactly(fd, _LENGTH.size)
    if head is None:
        return None
    (length,) = _LENGTH.unpack(head)
    return _read_exactly(fd, length) if length else b""


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = os.read(fd, size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


@final
class WriterProcess:
    """The parent's side: starts the child, sends it batches, and hands back its answers.

    `start` returns at once; the child is `ready` once it has opened the file (a few hundred
    milliseconds: it imports actorflow), and stays so until it ends; it is `lost` if it ended
    with a commit in flight, whose outcome is unknown.
    """

    def __init__(self, settings: WriterSettings) -> None:
        self.path = path = settings.path
        self.ready = False
        self.lost = False  # it ended with a commit in flight
        self._arguments = [
            str(path),
            settings.synchronous,
            repr(settings.busy_timeout),
            str(settings.max_bytes or 0),
        ]
        self._process: subprocess.Popen[bytes] | None = None
        self._to_child = self._from_child = -1  # the pipes' ends of this process
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: collections.deque[asyncio.Future[Reply]] = collections.deque()
        self._received = bytearray()
        self._unsent = memoryview(b"")
        self._decode = msgspec.msgpack.Decoder(Reply).decode
        self._encode = msgspec.msgpack.Encoder().encode
        self._opened: asyncio.Future[Reply] | None = None
        self._output_ended: asyncio.Future[None] | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        """The child's pid, once started."""
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Start the child (on the event loop's thread); `ready` once it has opened the file."""
        loop = self._loop = asyncio.get_running_loop()
        package = str(Path(__file__).resolve().parents[2])  # where this actorflow came from
        to_child, self._to_child = os.pipe()
        self._from_child, from_child = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _CHILD, package, *self._arguments],
                stdin=to_child,
                stdout=from_child,
                close_fds=True,
            )
        except OSError as exc:
            logger.warning("journal %s: cannot start its writer process: %s", self.path, exc)
            for fd in (self._to_child, self._from_child):
                os.close(fd)
            self._to_child = self._from_child = -1
            return
        finally:
            os.close(to_child)
            os.close(from_child)
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError):  # over /proc/sys/fs/pipe-max-size: as it is
                fcntl.fcntl(self._to_child, _F_SETPIPE_SZ, _PIPE_BYTES)
        os.set_blocking(self._to_child, False)
        os.set_blocking(self._from_child, False)
        loop.add_reader(self._from_child, self._readable)
        self._output_ended = loop.create_future()
        opened = self._opened = loop.create_future()
        self._waiting.append(opened)
        opened.add_done_callback(self._started)

    async def write(self, batch: Batch) -> Reply:
        """Have the child commit `batch`; its `Reply`. Raises `JournalError` if the child ended
        (`lost`: maybe after committing it)."""
        loop = self._loop
        if not self.ready or loop is None:
            raise JournalError(f"journal {self.path}: its writer process is not running")
        future: asyncio.Future[Reply] = loop.create_future()
        self._waiting.append(future)
        body = self._encode(batch)
        self._unsent = memoryview(_LENGTH.pack(len(body)) + body)
        self._send()
        return await future  # cancelled, it is skipped when its answer comes (in order)

    async def stop(self) -> None:
        """End the child once it has answered what it was sent, and wait for it to exit."""
        process, loop, ended = self._process, self._loop, self._output_ended
        self.ready, self._stopping = False, True  # nothing more is sent
        if process is None or loop is None or ended is None:
            return
        with anyio.CancelScope(shield=True):
            loop.remove_writer(self._to_child)
            os.close(self._to_child)  # its end of input: it exits after its last answer
            self._to_child = -1
            await ended  # its answers to what is in flight were read before it
            await anyio.to_thread.run_sync(process.wait)
            os.close(self._from_child)
            self._from_child = -1
            self._process = None

    # -- on the loop ------------------------------------------------------------------------

    def _started(self, opened: asyncio.Future[Reply]) -> None:
        if opened.cancelled() or opened.exception() is not None:
            return  # `_ended` logged it
        reply = opened.result()
        if reply.error is None:
            self.ready = True
        else:
            logger.warning(
                "journal %s: its writer process cannot open it (%s); commits stay in this process",
                self.path,
                reply.raised(self.path),
            )

    def _send(self) -> None:
        fd, loop = self._to_child, self._loop
        if fd < 0 or loop is None:
            return
        try:
            while self._unsent:
                self._unsent = self._unsent[os.write(fd, self._unsent) :]
        except BlockingIOError:
            loop.add_writer(fd, self._writable)
        except OSError:
            self._unsent = memoryview(b"")  # the child is gone: `_readable` sees its end
        else:
            loop.remove_writer(fd)

    def _writable(self) -> None:
        self._send()

    def _readable(self) -> None:
        fd = self._from_child
        if fd < 0:
            return
        try:
            chunk = os.read(fd, _PIPE_BYTES)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._ended()
            return
        received = self._received
        received += chunk
        while len(received) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(received)
            end = _LENGTH.size + length
            if len(received) < end:
                break
            body = bytes(received[_LENGTH.size : end])
            del received[:end]
            future = self._waiting.popleft()
            if future.done():
                continue  # its caller stopped waiting
            try:
                future.set_result(self._decode(body))
            except msgspec.DecodeError as exc:  # never: both ends are this package's
                future.set_exception(JournalError(f"journal {self.path}: {exc}"))

    def _ended(self) -> None:
        """The child's output ended: it exited, or was killed."""
        if self._from_child >= 0 and self._loop is not None:
            self._loop.remove_reader(self._from_child)
        if self._output_ended is not None and not self._output_ended.done():
            self._output_ended.set_result(None)
        self.ready = False
        waiting = [f for f in self._waiting if f is not self._opened]
        self.lost = bool(waiting)
        error = JournalUnavailable(
            f"journal {self.path}: its writer process ended with a commit in flight; whether"
            " that commit landed is unknown, so this process writes no more to the journal:"
            " restart it (what was committed is in the journal)"
        )
        if waiting:
            logger.error("%s", error)
        elif not self._stopping:
            logger.warning(
                "journal %s: its writer process ended; commits stay in this process", self.path
            )
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(error)
