"""How messages reach a durable actor: committed first, then delivered (J2, J5, J11).

`JournaledCell` is the in-memory cell with its doors replaced: a send waits for room, commits
the message, and only then puts it in the mailbox; a message committed by someone else (another
actor's turn, a timer, another process) is delivered right after its commit. While the actor
restores from the journal (at start, and coming back after passivation) deliveries are held and
merged with what the journal returns, so that none is taken twice or lost (J5).
"""

from __future__ import annotations

import itertools
import logging
from asyncio import Future
from collections.abc import Awaitable, Iterable
from typing import Any, Protocol

from .. import _outbox
from .._cell import ActorCell
from .._codec import Codec
from .._envelope import Envelope
from .._errors import ActorflowError, DecodeError, MessageCancelled
from .._handlers import handlers_of, state_type_of
from .._ids import new_message_id
from .._mailbox import Closed
from .._message import Message
from .._runtime import Runtime, Supervising
from .._spec import Child
from ..journal import ActorRecord, Failed, JournalBackend, MessageRecord, TimerRecord
from ._asks import ASK_PREFIX
from ._records import record_for
from ._writer import Delivery, Writer

__all__ = ["JournaledCell", "Keeper"]

logger = logging.getLogger("actorflow")


class Keeper(Protocol):
    """What a durable cell needs of the journal its system holds (``Durability``)."""

    writer: Writer
    backend: JournalBackend
    record_turns: bool
    """Whether each turn keeps its states and reply for replays (R2)."""

    async def restore(self, cell: JournaledCell) -> None:
        """Give `cell` its registration, last state and pending messages (J5)."""
        ...

    def passivated(self, cell: JournaledCell) -> None:
        """`cell` left memory; a ref to it can still bring it back."""
        ...

    def come_back(self, cell: JournaledCell) -> None:
        """A message reached passivated `cell`: bring it back (in the background)."""
        ...

    def timers_committed(self, timers: list[TimerRecord], cancels: list[str]) -> None:
        """A turn that set or cancelled timers committed: arm and drop them (J6)."""
        ...

    def local(self, name: str) -> JournaledCell | None:
        """The cell of durable actor `name` running on this node, if any (C4)."""
        ...

    async def bring_here(self, name: str) -> JournaledCell | None:
        """The cell of durable actor `name` here, brought back if this node owns it and does
        not run it (C3, J5); None if another node owns it, or it cannot come back."""
        ...

    def arrived(self, name: str) -> None:
        """A message for `name` was committed through its stand-in: if this node owns the
        actor and does not run it, it comes back (in the background) to read it (C3, J5)."""
        ...

    async def ask_elsewhere(
        self, cell: JournaledCell, envelope: Envelope, record: MessageRecord
    ) -> None:
        """Ask the actor of `cell`, which another node owns (C4): append `record` (the
        message of `envelope`, its id made by `ASK_PREFIX`) and have the owner's reply
        settle the envelope's reply future (``durable/_asks``)."""
        ...


class JournaledCell(ActorCell):
    """An actor cell whose messages are journaled before they reach its mailbox."""

    moved = False
    """Another node owns the actor now (C2): what is sent through this cell goes to it (C4)."""

    def __init__(
        self, spec: Child, name: str, runtime: Runtime, parent: Supervising, keeper: Keeper
    ) -> None:
        super().__init__(spec, name, runtime, parent)
        self.keeper = keeper
        self.send_nowait = self._journal_first
        # Made once: every send's commit calls it (a bound method made per send is garbage).
        self._deliver_reserved = self._fill_reserved
        self._unreserve = self._give_back
        self.writer = keeper.writer
        self.state_codec, self.message_codec = _codecs(spec.actor)
        self.committed_state: bytes | None = None  # the state as of the last commit
        # Deliveries held until the journal's pending messages are loaded: from creation until
        # the first restore, and from unloading until it is back (J5). None: not holding.
        self.held: list[Envelope] | None = []
        # Restored messages tried before (a crash, S7): handled one at a time, each committed
        # before the next starts, until the mailbox is empty once; no turns run ahead then.
        self.careful = False
        self.coming_back = False  # a message came while it was unloaded: it is on its way back
        # Messages it holds that were cancelled from outside (J11): id -> who cancelled. Each is
        # dropped when it comes to be handled, unless its handler had started (`DurableCell`).
        self.cancelled: dict[str, str] = {}

    # -- senders' doors ------------------------------------------------------------------------

    def _journal_first(self, envelope: Envelope) -> Awaitable[None]:
        """Never at once: the send to await, which commits the message first (J2).

        With room in the mailbox, and the actor here, that is the commit's own future (no
        coroutine made per send); raises the mailbox's `Closed` as `send_nowait` may.
        """
        if self.moved or not self.mailbox.reserve_nowait():
            return self.send_durable(envelope, None)
        return self._commit_reserved(envelope, None)

    async def send(self, envelope: Envelope) -> None:
        await self.send_durable(envelope, None)

    async def send_identified(self, message: Message, message_id: str) -> None:
        await self.send_durable(Envelope(message), message_id)

    def tell_nowait(self, envelope: Envelope) -> None:
        raise ActorflowError(
            f"{self.name} is durable: a message to it is committed to the journal first,"
            " which means waiting; use `await tell()`"
        )

    def deliver_system(self, message: Message) -> None:
        """A runtime message (`Terminated`) is journaled first, like any message to it."""
        self.runtime.background(self.send, Envelope(message))

    async def send_durable(self, envelope: Envelope, message_id: str | None) -> None:
        """Write-ahead send (J2): returns once the message is committed and in the mailbox.

        With `message_id`, a message already journaled under that id makes this a no-op.
        """
        if self.moved:
            await self.send_to_owner(envelope, message_id)
            return
        mailbox = self.mailbox
        try:
            if not mailbox.reserve_nowait():
                await mailbox.reserve()
        except Closed:
            raise self.stopped_error() from None
        await self._commit_reserved(envelope, message_id)

    def _commit_reserved(self, envelope: Envelope, message_id: str | None) -> Future[None]:
        """Queue the commit of a send that has its mailbox place; its future, to await.

        From here the commit settles the place: its delivery fills it, or, if it fails,
        `_unreserve` gives it back; a sender cancelled meanwhile leaves it to them (A2).
        """
        mailbox = self.mailbox
        # When this one is next in line (the actor idle, or only committing what it handled),
        # its first attempt is counted in the same commit: no separate claim (S7).
        first = not len(mailbox) and mailbox.reserved == 1 and self.current is None
        # Sent from a durable handler (an ask, which cannot wait for that handler's commit):
        # it still joins the handler's conversation (J7).
        outbox = _outbox.current()
        envelope.id = message_id or new_message_id()
        envelope.conversation = None if outbox is None else outbox.conversation
        try:
            record = record_for(
                envelope.message,
                self.name,
                envelope.id,
                None if outbox is None else outbox.sender,
                envelope.conversation,
                None if outbox is None else outbox.cause,
                envelope.trace,
            )
            if first:
                record.attempts = 1
                envelope.claimed = True
            return self.writer.tell(record, self._deliver_reserved, envelope, self._unreserve)
        except BaseException:
            if not mailbox.closed:
                mailbox.release()
            raise

    async def send_to_owner(self, envelope: Envelope, message_id: str | None) -> None:
        """Send to the actor where it runs (C4): to its cell here if this node runs it again
        (or owns it and brings it back for this message: its shard just taken over, C3),
        else committed by this node's writer, the journal leaving a notice for its owner.

        An ask's reply comes back through the journal (`Keeper.ask_elsewhere`).
        """
        local = self.keeper.local(self.name)
        if local is None:  # this node may own it and not run it yet (C3): then it comes here
            local = await self.keeper.bring_here(self.name)
        if local is not None and local is not self:
            await local.send_durable(envelope, message_id)
            return
        asked = envelope.reply is not None
        outbox = _outbox.current()
        envelope.id = (ASK_PREFIX + new_message_id()) if asked else message_id or new_message_id()
        record = record_for(
            envelope.message,
            self.name,
            envelope.id,
            None if outbox is None else outbox.sender,
            None if outbox is None else outbox.conversation,
            None if outbox is None else outbox.cause,
            envelope.trace,
        )
        if asked:
            await self.keeper.ask_elsewhere(self, envelope, record)
        else:
            await self.writer.append([record])

    def _give_back(self, envelope: Envelope) -> None:
        """A send's commit failed: give back the mailbox place it reserved (`Writer.tell`)."""
        if not self.mailbox.closed:
            self.mailbox.release()

    def _fill_reserved(self, envelope: Envelope, seq: int | None) -> None:
        """After the commit of a send: fill the place it reserved (`Delivery`)."""
        if seq is None:
            self.mailbox.release()  # a duplicate id: nothing new to deliver
        else:
            envelope.seq = seq
            self.accept_committed(envelope, reserved=True)

    def committed_delivery(self, envelope: Envelope) -> Delivery:
        """Deliver a message from another durable actor's outbox once it is committed."""
        if self.moved:
            return self._owner_delivery(envelope)

        def deliver(seq: int | None) -> None:
            if seq is not None:
                envelope.seq = seq
                self.accept_committed(envelope, reserved=False)

        return deliver

    def _owner_delivery(self, envelope: Envelope) -> Delivery:
        """After the commit: the owner takes the message from its notice (C4); if this node
        runs the actor again by now, its cell here gets it (a notice taken later finds it
        held); if it owns the actor and does not run it yet (C3), the actor comes back and
        reads it from the journal."""

        def deliver(seq: int | None) -> None:
            local = self.keeper.local(self.name)
            if local is not None and local is not self and seq is not None:
                local.committed_delivery(envelope)(seq)
            elif local is None and seq is not None:
                self.keeper.arrived(self.name)  # this node may own it, and not run it yet

        return deliver

    def accept_committed(self, envelope: Envelope, *, reserved: bool) -> None:
        """Put a committed message in the mailbox, or hold it while the actor restores."""
        mailbox = self.mailbox
        if reserved:
            mailbox.reserved -= 1
        if mailbox.closed:
            # The actor stopped: the journal keeps the message pending; an asker hears now.
            reply = envelope.reply
            if reply is not None and not reply.done():
                reply.set_exception(self.stopped_error())
            return
        held = self.held
        if held is not None:
            held.append(envelope)  # goes in after the journal's older pending messages
            if self.unloading:
                self._come_back()
            return
        mailbox.force(envelope)

    def accept_outside(self, record: MessageRecord) -> Failed | None:
        """Take in a pending message no mailbox waited for: one another process appended or
        re-queued (J11), or a fired timer's (J6).

        Called in the journal writer right after the commit that made `record` pending (or the
        read that found it so), so that unless this actor holds it already (restored from the
        journal meanwhile), nobody has it.
        Returns the dead-letter record to commit if it cannot be decoded.
        """
        if self.holds(record.id):
            return None
        read = self.read(record)
        if isinstance(read, Failed):
            return read
        self.accept_committed(read, reserved=False)
        return None

    def cancel_outside(self, record: MessageRecord) -> None:
        """A message this actor may hold was cancelled by another process (J11): drop it
        before its handler starts.

        Called in the journal writer: a message committed before the cancel was delivered
        before (or is held), so whatever holds it is seen here. While the actor restores, a
        journal read made before the cancel may still bring it, so it is remembered then too,
        and forgotten after the restore unless it came.
        """
        if self.held is not None or self.holds(record.id):
            by = self.cancelled[record.id] = record.cancelled_by or "someone"
            # Queued in the mailbox, it will never be handled: its asker hears so now rather
            # than when the actor gets to it (the mailbox drops it then).
            for envelope in self.mailbox:
                if envelope.id == record.id:
                    self.tell_cancelled(envelope, by)
                    break

    def tell_cancelled(self, envelope: Envelope, by: str) -> None:
        """Tell the asker of `envelope` (if any, and not told yet) it was cancelled by `by`."""
        reply = envelope.reply
        if reply is not None and not reply.done():
            reply.set_exception(
                MessageCancelled(
                    f"message {envelope.id} to {self.name} was cancelled by {by} before it was"
                    " handled",
                    actor=self.name,
                    message_id=str(envelope.id),
                )
            )

    def holds(self, message_id: str) -> bool:
        """Whether `message_id` is being handled, queued, or held until restored."""
        current = self.current
        if current is not None and current.id == message_id:
            return True
        return any(
            e.id == message_id for e in itertools.chain(self.mailbox, self.held or (), self.ahead)
        )

    @property
    def ahead(self) -> Iterable[Envelope]:
        """Messages handled whose commit has not landed yet (J3)."""
        return ()

    @property
    def unloading(self) -> bool:
        """Unloading from memory, or out of it (J5): a delivery must bring it back."""
        return False

    def _come_back(self) -> None:
        if not self.coming_back:
            self.coming_back = True
            self.keeper.come_back(self)

    # -- restoring from the journal ------------------------------------------------------------

    def restore(self, record: ActorRecord | None, pending: list[MessageRecord]) -> list[Failed]:
        """Load the last committed state and the pending messages, in order (J5).

        Returns the messages that cannot be decoded, as dead-letter records to commit: they
        never crash the system and never vanish (M3).
        """
        if record is not None:
            self.committed_state = record.state
        # Messages delivered while the journal was read (or while passivated): the journal
        # returned those committed before it was read; those go in its order, as the held
        # envelope (which may carry an ask's reply), the others after them.
        held = {envelope.id: envelope for envelope in self.held or ()}
        unreadable: list[Failed] = []
        if self.mailbox.closed:
            self.held = None
            return unreadable  # stopped for good while the journal was read: all stay pending
        self.held = None
        self.coming_back = False
        self.careful = any(row.attempts for row in pending)
        for row in pending:
            envelope = held.pop(row.id, None)
            read = self.read(row) if envelope is None else envelope
            if isinstance(read, Failed):
                unreadable.append(read)
            else:
                self.mailbox.force(read)
        for envelope in held.values():
            self.mailbox.force(envelope)
        if self.cancelled:  # keep only what it holds: the rest was not pending when read
            waiting = {envelope.id for envelope in self.mailbox}
            self.cancelled = {k: v for k, v in self.cancelled.items() if k in waiting}
        return unreadable

    def read(self, row: MessageRecord) -> Envelope | Failed:
        """A journal row as an envelope, or as the dead-letter record of an unreadable one (M3)."""
        problem = row.corrupt
        codec = self.message_codec
        if problem is None:
            if codec is None:
                problem = f"{self.name} accepts no messages"
            else:
                try:
                    message = codec.decode(row.body)
                except DecodeError as exc:
                    problem = f"message {row.id} (seq {row.seq}) of type {row.type!r}: {exc}"
                else:
                    envelope = Envelope(
                        message, id=row.id, attempts=row.attempts, conversation=row.conversation
                    )
                    envelope.seq = row.seq
                    envelope.trace = row.trace
                    return envelope
        logger.error(
            "actor %s: unreadable journal message is a dead letter: %s", self.name, problem
        )
        return Failed(row.id, row.attempts, problem, None, True)

    # -- what stays when it stops --------------------------------------------------------------

    def _leave(
        self, current: Envelope | None, unhandled: list[Envelope], error: BaseException | None
    ) -> None:
        """A durable actor's unhandled messages stay pending in the journal (S8, J5)."""
        waiting = ([current] if current is not None else []) + unhandled + (self.held or [])
        self.held = None
        for envelope in waiting:
            if envelope.reply is not None and not envelope.reply.done():
                envelope.reply.set_exception(self.stopped_error())
        if waiting:
            logger.info(
                "actor %s stopped; %d message(s) stay pending in the journal",
                self.name,
                len(waiting),
            )


_codec_cache: dict[type[Any], tuple[Codec[Any] | None, Codec[Any] | None]] = {}


def _codecs(cls: type[Any]) -> tuple[Codec[Any] | None, Codec[Any] | None]:
    """The state codec and message codec of a durable actor class, built once per class."""
    found = _codec_cache.get(cls)
    if found is None:
        state_type = state_type_of(cls)
        handlers = handlers_of(cls)
        found = _codec_cache[cls] = (
            Codec(state_type) if state_type is not None else None,
            Codec.of(handlers) if handlers else None,
        )
    return found
