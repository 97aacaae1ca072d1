"""`Durability`: what a system holds when it has a journal (J1-J12).

The system makes one when it is given a journal and asks it for nothing but what its name
says: open the journal (start the writer, read what to recover), make durable cells, run the
chores (outside messages, retention), answer the journal's queries, and close. Durable cells
reach it through the `Keeper` port.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Final

import anyio
from anyio.abc import TaskGroup, TaskStatus

from .._clock import Clock
from .._envelope import Envelope
from .._errors import ActorflowError, JournalError
from .._handlers import actor_kind
from .._message import Message
from .._runtime import Runtime, Supervising
from .._spec import Child
from ..journal import (
    AskChannel,
    Compacted,
    ConversationNode,
    JournalBackend,
    MessageRecord,
    TimerRecord,
    conversation_tree,
)
from ._asks import Asks
from ._cell import DurableCell
from ._delivery import JournaledCell
from ._outside import watch_notices
from ._recovery import Recovery, Registry
from ._remote import RemoteCell
from ._writer import JournalStatistics, Writer

__all__ = ["Durability", "TimerSink"]

logger = logging.getLogger("actorflow")

_CLOSE_SECONDS: Final = 30.0  # how long closing waits for what is queued to commit


class TimerSink:
    """Where a journal's timers go: armed when read or committed, dropped when cancelled."""

    def __init__(
        self,
        arm: Callable[[TimerRecord], None],
        committed: Callable[[Sequence[TimerRecord], Sequence[str]], None],
    ) -> None:
        self.arm = arm
        self.committed = committed


class Durability:
    """A system's journal: its writer, its recovery, its chores (internal)."""

    def __init__(
        self,
        backend: JournalBackend,
        tree: Registry,
        timers: TimerSink,
        *,
        record_turns: bool = True,
    ) -> None:
        self.backend = backend
        self.record_turns = record_turns  # keep each turn's states and reply for replays (R2)
        self.tree = tree
        self.timers = timers
        self.writer = Writer(backend)
        self.recovery = Recovery(tree, self.writer, backend, timers.arm)
        self._writer_done: anyio.Event | None = None
        self._remotes: weakref.WeakValueDictionary[str, RemoteCell] = weakref.WeakValueDictionary()
        self._open = False
        # Asks to other nodes' actors (C4): only a backend of several nodes carries them.
        self.asks = (
            Asks(backend, self.writer, backend.watch_notices, tree.background)
            if isinstance(backend, AskChannel)
            else None
        )

    # -- open and close ------------------------------------------------------------------------

    async def open(self, tg: TaskGroup) -> None:
        """Open the journal, join it as a node (C2), start its writer in `tg`, and read what
        there is to recover."""
        await self.backend.open()
        try:
            await self.backend.join(self._ownership_changed)
            self._writer_done = done = anyio.Event()
            writer = self.writer

            async def run_writer(*, task_status: TaskStatus[None]) -> None:
                try:
                    await writer.run(task_status=task_status)
                finally:
                    done.set()

            await tg.start(run_writer)
            self._open = True
            await self.recovery.load()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.close()
                await self.backend.close()
            raise

    @property
    def is_open(self) -> bool:
        return self._open

    async def close(self) -> None:
        """Commit what is queued, stop the writer, close the journal (idempotent)."""
        if not self._open:
            return
        self._open = False
        if self.asks is not None:
            with anyio.CancelScope(shield=True):
                await self.asks.close()  # its askers hear ActorStopped (S9)
        self.writer.close()
        # Shielded: also when the system is torn down by a cancellation (the root gave up, a
        # second signal), what is queued is committed or failed and the files are closed.
        with anyio.CancelScope(shield=True):
            if self._writer_done is not None:
                with anyio.move_on_after(_CLOSE_SECONDS):
                    await self._writer_done.wait()
            await self.backend.close()

    def stop(self) -> None:
        """The system stops: passivated actors stop for good with it (S8)."""
        self.recovery.stop()

    # -- chores --------------------------------------------------------------------------------

    def run_chores(self, tg: TaskGroup, clock: Clock, retention: float | None) -> None:
        """Take in outside messages (J11) and, with a `retention`, compact (J10), in `tg`."""
        tg.start_soon(watch_notices, self.backend, self.writer, self._take_in, self._closing)
        if retention is not None:
            tg.start_soon(self._retain, clock, retention)

    def _take_in(self, records: list[MessageRecord]) -> None:
        """What other processes appended or re-queued is delivered; what they cancelled is
        dropped from the mailbox holding it, and a cancelled timer disarmed (J11). In the
        writer, right after the notices were taken."""
        cancelled = [r for r in records if r.status == "cancelled"]
        if not cancelled:
            self.recovery.take_in(records)
            return
        self.recovery.take_in([r for r in records if r.status != "cancelled"])
        self.timers.committed((), [r.id for r in cancelled])
        self.recovery.cancel(cancelled)

    async def _ownership_changed(self) -> None:
        if self._open:
            await self.recovery.ownership_changed()

    def owns(self, actor: str) -> bool:
        """Whether this node owns durable actor `actor` (C2)."""
        return self.backend.owns(actor)

    def _closing(self) -> bool:
        return not self._open

    async def _retain(self, clock: Clock, seconds: float) -> None:
        """Compact what is older than the retention period, every tenth of it (J10)."""
        every = min(max(seconds / 10, 1.0), 3600.0)
        while True:
            try:
                await self.compact(time.time() - seconds)
            except JournalError as exc:
                logger.warning("automatic compaction failed, will try again: %s", exc)
            await clock.sleep(every)

    # -- cells ---------------------------------------------------------------------------------

    def make_cell(
        self, spec: Child, name: str, runtime: Runtime, parent: Supervising
    ) -> DurableCell:
        """The cell of a durable actor (J1)."""
        return DurableCell(spec, name, runtime, parent, self)

    async def restore(self, cell: JournaledCell) -> None:
        await self.recovery.restore(cell)

    def passivated(self, cell: JournaledCell) -> None:
        self.recovery.passivate(cell)

    def come_back(self, cell: JournaledCell) -> None:
        self.tree.background(self.recovery.come_back, cell)

    def timers_committed(self, timers: list[TimerRecord], cancels: list[str]) -> None:
        self.timers.committed(timers, cancels)

    def elsewhere(self, name: str, cls: type[Any] | None = None) -> RemoteCell | None:
        """The stand-in of durable actor `name` if another node owns it (C4): of class `cls`,
        or of the kind the journal registered it with; None if this node owns it, or the
        journal had no such actor when last read."""
        if self.backend.owns(name):
            return None
        return self._stand_in(name, cls)

    def _stand_in(self, name: str, cls: type[Any] | None) -> RemoteCell | None:
        """The stand-in of durable actor `name` (see `elsewhere`), wherever it runs: what is
        sent through it goes to the actor where it runs at send time."""
        known = self._remotes.get(name)
        if known is not None and (cls is None or known.spec.actor is cls):
            return known  # one stand-in per actor while refs hold it: refs compare equal
        if cls is None:
            kind = self.recovery.kinds.get(name)
            cls = None if kind is None else actor_kind(kind)
            if cls is None:
                return None
        root = self.tree.root
        if root is None:
            return None
        remote = self._remotes[name] = RemoteCell(
            Child(cls, name=name), name, self.tree, root, self
        )
        return remote

    def unloaded(self, name: str) -> JournaledCell | None:
        """The cell a reference to durable actor `name` goes through while it is not in memory
        here: passivated (a message brings it back, J5), or, over a journal of several nodes,
        its stand-in (C4) wherever it runs: on another node, or on none yet, its shard just
        taken over by this node (C3; its first message brings it here, `bring_here`); None if
        neither."""
        passivated = self.recovery.passivated.get(name)
        if passivated is not None:
            return passivated
        if self.asks is not None:  # only a journal of several nodes carries asks (C4)
            return self._stand_in(name, None)
        return self.elsewhere(name)

    async def bring_here(self, name: str) -> JournaledCell | None:
        """The cell of durable actor `name` on this node, brought back for a message on its
        way if this node owns it and does not run it (its shard just taken over, C3, or it
        was left passivated in the journal, J5); None if another node owns it, or it cannot
        come back here (logged: the message then waits in the journal)."""
        if not self.backend.owns(name):
            return None
        return await self.recovery.bring_here(name)

    def arrived(self, name: str) -> None:
        """A message for durable actor `name` was committed through its stand-in (from a
        handler's turn, C4): if this node owns the actor, that commit left no notice for
        another node, so unless it runs here it comes back now (in the background) and reads
        the message from the journal (C3, J5)."""
        if self.backend.owns(name):
            # As for a message another process appended (`Recovery.take_in`); `activate`
            # leaves an actor that is in memory, or on its way back, alone.
            self.tree.background(self.recovery.activate, name)

    def kind_of(self, name: str) -> str | None:
        """The kind durable actor `name` is registered with, if the journal had it when last
        read (or this system registered it since)."""
        return self.recovery.kinds.get(name)

    def local(self, name: str) -> JournaledCell | None:
        """The cell of durable actor `name` running on this node, if any (C4)."""
        cell = self.tree.find(name)
        return cell if isinstance(cell, JournaledCell) else None

    async def ask_elsewhere(
        self, cell: JournaledCell, envelope: Envelope, record: MessageRecord
    ) -> None:
        """Ask `cell`'s actor, which another node owns (C4), through the journal."""
        asks, reply = self.asks, envelope.reply
        if asks is None:  # pragma: no cover - a backend of one node owns every actor
            raise ActorflowError(
                f"actor {cell.name} runs on another node and journal {self.backend!r} cannot"
                " carry an ask across nodes"
            )
        assert reply is not None
        await asks.ask(
            record, type(envelope.message), cell.spec.actor, reply, cell.deadlines.left(reply)
        )

    async def spawn_elsewhere(self, spec: Child, supervisor: str | None) -> RemoteCell | None:
        """Register durable actor `spec` for the node that owns it and return its stand-in
        (C4), or None if this node owns it."""
        name = spec.name
        assert name is not None
        remote = self.elsewhere(name, spec.actor)
        if remote is not None:
            await self.recovery.register(name, spec, supervisor, await self.backend.actor(name))
        return remote

    async def running(self, name: str, cls: type[Any]) -> DurableCell | None:
        """The durable actor `name` of class `cls` if it runs, brought back if passivated."""
        cell = await self.recovery.running(name, cls)
        return cell if isinstance(cell, DurableCell) else None

    # -- queries and operations ----------------------------------------------------------------

    def _backend(self) -> JournalBackend:
        if not self._open:
            raise ActorflowError("this system's journal is closed")
        return self.backend

    async def conversation(self, id: str) -> list[ConversationNode]:
        """The conversation `id` names (a conversation id, or any of its messages' ids) as
        trees of causing and caused messages, roots first (J7)."""
        backend = self._backend()
        records = await backend.conversation(id)
        if not records:
            found = await backend.message(id)
            if found is not None and found.conversation is not None:
                records = await backend.conversation(found.conversation)
        return conversation_tree(records)

    async def compact(self, cutoff: float) -> Compacted:
        """Delete done and cancelled messages older than `cutoff` (a Unix time) and their steps
        (J10)."""
        result = await self._backend().compact(cutoff)
        if result.messages or result.steps:
            logger.info(
                "compacted the journal: %d done or cancelled message(s) and %d step result(s)"
                " before %s",
                result.messages,
                result.steps,
                dt.datetime.fromtimestamp(cutoff).isoformat(timespec="seconds"),
            )
        return result

    async def requeue(self, cell: JournaledCell, message: Message, message_id: str) -> None:
        """Make dead letter `message_id` of `cell` pending again, attempts reset, and put it
        in the mailbox (S7)."""
        await self.writer.requeue(message_id)
        cell.mailbox.force(Envelope(message, id=message_id))

    def statistics(self) -> JournalStatistics:
        """The writer's counters (O2)."""
        return self.writer.statistics()

    def __repr__(self) -> str:
        return repr(self.backend)
