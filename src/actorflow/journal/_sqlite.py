"""The SQLite journal backend (J8, J9, J12).

One writer connection (`SQLiteWriter`) applies each group commit as one function call. A small
commit made while nothing else writes runs on the event loop's thread, where it costs no hop
at all (see `_INLINE_OPS`); a larger one goes to the writer process (`WriterProcess`), whose
connection's SQLite work runs beside the loop's Python instead of taking the GIL from it, and
until that process is ready (or where it cannot run) to the writer thread. Reads go through
aiosqlite on separate read-only connections, so inspection never blocks the writer (WAL).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final, Literal, final

import aiosqlite
import anyio
import anyio.to_thread

from .._errors import JournalError, JournalLocked
from . import _rows
from ._lane import Lane
from ._records import ActorRecord, Batch, Compacted, MessageRecord, TimerRecord, TurnRecord
from ._rows import ACTOR_COLUMNS, CONVERSATION_STEPS, CONVERSATION_TURNS, read_actor, turns_of
from ._sqlite_writer import SQLiteWriter, WriterSettings, translate
from ._thread import WorkerThread
from ._wake import WakeListener
from ._writer_process import WriterProcess

__all__ = ["SQLiteJournal"]

# A small commit made while the writer thread has nothing to do runs on the event loop's own
# thread: a sequential turn or a step commits one or two operations, and sending them to the
# thread and back costs two wake-ups (~60-140 us here) and a GIL handover per statement, more
# than the loop would do meanwhile. So does a commit of a few senders' messages and turns: one
# durable actor with 20 senders commits ~40 operations at a time, and its loop has little to do
# while they commit; measured (4 rounds alternated), inline up to 64 operations it did 8.6-12.2k
# msg/s, against 7.9-9.2k with only 8 inline (each statement in the thread waits for the GIL
# back from the loop). A large batch (a group commit of many actors) goes to the writer process,
# where SQLite's C code runs beside the loop's Python. So does every commit after one that
# took `_INLINE_SECONDS` or more (a slow disk, a checkpoint), until one is quick again: a slow
# fsync never holds the loop up twice running. On the loop no commit waits for another
# process's write lock: it goes to the thread, which waits `busy_timeout` for it.
_INLINE_OPS: Final = 64
_INLINE_SECONDS: Final = 0.002


@final
class SQLiteJournal:
    """A journal in one SQLite file: WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE`` (J8).

    `synchronous="FULL"` (the default) makes a committed message survive power loss;
    ``"NORMAL"`` survives process crashes only and commits faster. The file and its ``-wal``
    and ``-shm`` companions are created readable by their owner only (0600). `busy_timeout` is
    how long a write waits for another process's write lock before `JournalLocked`.
    `max_bytes` caps the file's size: a write past it raises `JournalFull`, as a full disk does.

    The WAL is checkpointed every ~4 MiB and its file cut back to 4 MiB after a
    checkpoint. After a write fails with `JournalFull` (rolled back whole), the WAL is
    checkpointed and truncated to nothing (again before the next write, if it could not finish
    then), and every commit checkpoints it until the disk has 8 MiB free again, so that space
    freed on a full disk goes to new writes instead of back to the WAL.

    With `writer_process` (the default), the first commit too large for the loop's thread
    starts the writer process (`WriterProcess`: a Python child running `_writer_child.main`,
    a second writer connection), and such commits are made there once it is ready; it exits
    when the journal closes or this process dies. If it ends with a commit in flight, whether
    that commit landed is unknown: every later write raises `JournalError`, and the process
    must be restarted. Without it, they are made in the writer thread.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        busy_timeout: float = 5.0,
        max_bytes: int | None = None,
        writer_process: bool = True,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be 'FULL' or 'NORMAL', not {synchronous!r}")
        self.path = Path(path)
        self.synchronous = synchronous
        self.busy_timeout = busy_timeout
        self.max_bytes = max_bytes
        self.writer_process = writer_process
        self._settings = WriterSettings(self.path, synchronous, busy_timeout, max_bytes)
        self._writer: SQLiteWriter | None = None
        self._reader: aiosqlite.Connection | None = None
        self._thread: WorkerThread | None = None
        self._process: WriterProcess | None = None  # started by the first commit it would take
        # One job at a time on the writers (this process's connection and the child's): a
        # compaction in the thread and a commit in the child never wait for each other's lock.
        self._lane = Lane()  # taken without yielding: see `_lane`
        self._last_write = 0.0  # seconds the last write transaction took, wherever it ran

    @property
    def writer_pid(self) -> int | None:
        """The writer process's pid while it makes this journal's larger commits, else None."""
        process = self._process
        return process.pid if process is not None and process.ready else None

    # -- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> None:
        if self._writer is not None:
            return
        writer = SQLiteWriter(self._settings)
        self._thread = WorkerThread(f"actorflow journal writer {self.path.name}")
        try:
            await self._thread.run(writer.open)
        except BaseException:
            await anyio.to_thread.run_sync(self._thread.stop)
            self._thread = None
            raise
        self._writer = writer
        try:
            # Quoted: a '#' or '?' in the path would otherwise end the file name in the URI.
            uri = f"file:{urllib.parse.quote(str(self.path.absolute()))}?mode=ro"
            self._reader = await aiosqlite.connect(uri, uri=True, timeout=self.busy_timeout)
        except sqlite3.Error as exc:
            await self.close()
            raise translate(exc, f"cannot open {self.path} for reading") from exc

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.close()
        process, self._process = self._process, None
        if process is not None:
            await process.stop()  # after the commit it may be making
        writer, self._writer = self._writer, None
        thread, self._thread = self._thread, None
        if writer is not None and thread is not None:
            with anyio.CancelScope(shield=True):
                await thread.run(writer.close)
                await anyio.to_thread.run_sync(thread.stop)

    # -- writes --------------------------------------------------------------------------------

    async def write(self, batch: Batch) -> list[int | None]:
        thread, writer = self._thread, self._writer
        if thread is None or writer is None:
            raise JournalError(f"journal {self.path} is not open")
        process = self._process
        if process is not None and process.lost:
            raise JournalError(
                f"journal {self.path}: its writer process ended with a commit in flight;"
                " restart this process (what was committed is in the journal)"
            )
        # Nothing awaited from here to the end of an inline commit: no cancellation cuts it.
        written = self.write_now(batch)
        if written is not None:
            return written
        lane = self._lane
        small = len(batch) <= _INLINE_OPS
        if process is None and not small and self.writer_process:
            process = self._process = WriterProcess(self._settings)
            process.start()  # ready in a few hundred ms; the thread commits until then
        async with lane:
            if process is not None and process.ready:
                reply = await process.write(batch)
                self._last_write = reply.seconds
                if reply.error is not None:
                    raise reply.raised(self.path)
                return reply.seqs
            try:
                return await thread.run(writer.write, batch)
            finally:
                self._last_write = writer.last_write

    def write_now(self, batch: Batch) -> list[int | None] | None:
        """Make a small commit on the calling thread (`WritesNow`): at most `_INLINE_OPS`
        operations, nothing else writing, the last commit quick; None otherwise, and when
        another process holds the write lock (the commit then waits for it elsewhere)."""
        thread, writer = self._thread, self._writer
        if (
            thread is None
            or writer is None
            or len(batch) > _INLINE_OPS
            or self._lane.locked()
            or not thread.idle
            or self._last_write >= _INLINE_SECONDS
        ):
            return None
        process = self._process
        if process is not None and process.lost:
            return None  # `write` says what happened
        try:
            return writer.write(batch, waits=False)
        except JournalLocked:
            return None
        finally:
            self._last_write = writer.last_write

    async def take_notices(self) -> list[MessageRecord]:
        thread, writer = self._thread, self._writer
        if thread is None or writer is None:
            raise JournalError(f"journal {self.path} is not open")
        async with self._lane:
            return await thread.run(writer.take_notices)

    async def join(self, changed: Callable[[], Awaitable[None]]) -> None:
        """One node owns this journal, and every actor of it (C2): nothing to claim."""

    def owns(self, actor: str) -> bool:
        """Every actor is this node's (C2)."""
        return True

    def watch_notices(self, wake: Callable[[], None]) -> Callable[[], None]:
        listener = WakeListener(self.path)
        sock = listener.socket
        if sock is None:
            return listener.close
        loop = asyncio.get_running_loop()
        fd = sock.fileno()

        def readable() -> None:
            listener.drain()
            wake()

        loop.add_reader(fd, readable)

        def stop() -> None:
            loop.remove_reader(fd)
            listener.close()

        return stop

    async def compact(self, before: float) -> Compacted:
        thread, writer = self._thread, self._writer
        if thread is None or writer is None:
            raise JournalError(f"journal {self.path} is not open")
        async with self._lane:
            return await thread.run(writer.compact, before)

    async def pin(self, conversation: str, pinned: bool = True) -> bool:
        thread, writer = self._thread, self._writer
        if thread is None or writer is None:
            raise JournalError(f"journal {self.path} is not open")
        async with self._lane:
            return await thread.run(writer.pin, conversation, pinned)

    # -- reads ---------------------------------------------------------------------------------

    async def pinned(self) -> list[str]:
        rows = await self._fetch("SELECT conversation FROM pins ORDER BY pinned_at", ())
        return [str(conversation) for (conversation,) in rows]

    async def turns(self, conversation: str) -> list[TurnRecord]:
        step_rows = await self._fetch(CONVERSATION_STEPS, (conversation,))
        return turns_of(await self._fetch(CONVERSATION_TURNS, (conversation,)), step_rows)

    async def actors(self) -> list[ActorRecord]:
        rows = await self._fetch(f"SELECT {ACTOR_COLUMNS} FROM actors ORDER BY rowid", ())
        return [read_actor(row) for row in rows]

    async def actor(self, name: str) -> ActorRecord | None:
        return await _rows.fetch_actor(self._fetch, name)

    async def pending(
        self, recipient: str | None = None, *, after: int = 0, limit: int | None = None
    ) -> list[MessageRecord]:
        return await _rows.fetch_pending(self._fetch, recipient, after, limit)

    async def message(self, message_id: str) -> MessageRecord | None:
        return await _rows.fetch_message(self._fetch, message_id)

    async def dead_letters(self, *, limit: int | None = None) -> list[MessageRecord]:
        return await _rows.fetch_dead_letters(self._fetch, limit)

    async def steps(self, message_id: str) -> dict[str, bytes]:
        return await _rows.fetch_steps(self._fetch, message_id)

    async def timers(self) -> list[TimerRecord]:
        return await _rows.fetch_timers(self._fetch)

    async def conversation(self, conversation: str) -> list[MessageRecord]:
        return await _rows.fetch_conversation(self._fetch, conversation)

    async def schema_version(self) -> int:
        return await _rows.fetch_schema_version(self._fetch)

    async def _fetch(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        reader = self._reader
        if reader is None:
            raise JournalError(f"journal {self.path} is not open")
        try:
            return list(await reader.execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise translate(exc, f"cannot read {self.path}") from exc

    def __repr__(self) -> str:
        state = "open" if self._writer is not None else "closed"
        return f"<SQLiteJournal {self.path} {state} synchronous={self.synchronous}>"
