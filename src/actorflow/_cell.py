"""The actor cell: one actor's mailbox, counters and lives, kept across restarts.

An actor lives as a series of incarnations (one task each), started by its supervisor: setup
(construct, ``on_start``), running (one message at a time, A1), teardown (``on_stop``). The
mailbox, the ref and the message being retried belong to the cell and outlive incarnations (S6).
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup, TaskStatus

from . import _durable
from ._actor import Actor, handlers_of, state_type_of
from ._codec import Codec
from ._context import ActorContext
from ._crashpoints import crash_point
from ._deadletter import DeadLetter
from ._durable import Turn, current_turn, new_message_id, record_for
from ._envelope import Envelope
from ._errors import (
    ActorFailed,
    ActorflowError,
    ActorStopped,
    DecodeError,
    DefinitionError,
    JournalError,
    MailboxFull,
    MessageTypeError,
    StartFailed,
)
from ._mailbox import Closed, Full, Mailbox
from ._message import Message, Terminated
from ._ref import ActorRef, ActorStatistics, Status
from ._spec import Child
from ._tracing import traced
from .journal import ActorRecord, Done, Failed, MessageRecord

if TYPE_CHECKING:
    from ._supervisor import SupervisorCell
    from ._system import ActorSystem

__all__ = ["ActorCell"]

logger = logging.getLogger("actorflow")


class ActorCell:
    """The runtime record of one actor (internal; users hold an `ActorRef`)."""

    def __init__(
        self,
        spec: Child,
        name: str,
        system: ActorSystem,
        parent: SupervisorCell,
        *,
        durable: bool = False,
    ) -> None:
        self.spec = spec
        self.name = name
        self.system = system
        self.parent = parent
        self.restart = spec.restart
        self.handlers = handlers_of(spec.actor)
        self.mailbox = Mailbox(spec.mailbox_size)
        self.capacity = spec.mailbox_size
        self.send_nowait: Callable[[Envelope], None] = self.mailbox.put_nowait
        self.ref: ActorRef[Any] = ActorRef(self)
        self.deadlines = system._deadlines
        self.status: Status = "starting"
        self.current: Envelope | None = None  # being handled, or to retry after a restart
        self.exit_requested = False  # the running incarnation ends after its current message
        self.stopping = False  # the supervisor is stopping it: its exit is not a failure
        self.last_error: BaseException | None = None
        self.handled = 0
        self.failed = 0
        self.restarts = 0
        self.dead_letters = 0
        self.incarnation = 0
        self._scope: anyio.CancelScope | None = None
        self._ended = anyio.Event()
        self._ended.set()
        self._idle_waiters: list[anyio.Event] = []
        self.watchers: set[ActorCell] = set()
        # Durable actors (J1): a journal, a stable name, not ephemeral.
        self.durable = durable
        self.writer = system._writer if durable else None
        self.state_codec, self.message_codec = _codecs(spec.actor) if durable else (None, None)
        self.committing = False  # handled the current message; waiting for its commit
        # Re-created from the journal: a failing first start is a failure for its supervisor
        # to handle, not an error for whoever started the system.
        self.recovered = False
        self.committed_state: bytes | None = None  # the state as of the last commit
        self.restoring = durable  # until its journal state and pending messages are loaded
        self._held: list[Envelope] = []
        self.turn: Turn | None = None  # the durable turn being handled, for steps and timers
        # Passivation (J5): unloaded while idle, back on the next message.
        self.passivating = False  # its incarnation is ending to unload it
        self.activating = False  # a message came while passivated: it is on its way back
        self._passivated = anyio.Event()

    # -- supervisor side ---------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        """True from the moment an incarnation is launched until it has ended."""
        return not self._ended.is_set()

    async def start(self, tg: TaskGroup, *, first: bool) -> None:
        """Start an incarnation now and wait until its ``on_start`` returned.

        On the first start a failing ``on_start`` raises `StartFailed`; later, it is reported to
        the supervisor as a failure like any other.
        """
        if self.restoring:
            await self.system._recovery.restore(self)
            if self.mailbox.closed:
                raise self.stopped_error()  # stopped for good (with the system) meanwhile
        incarnation = self._prepare(delay=0.0)
        await tg.start(self._live, incarnation, 0.0, first and not self.recovered)

    def start_soon(self, tg: TaskGroup, delay: float) -> None:
        """Start an incarnation after `delay` seconds (a restart's backoff) without waiting."""
        incarnation = self._prepare(delay)
        tg.start_soon(self._live, incarnation, delay, False, name=f"actor {self.name}")

    def _prepare(self, delay: float) -> int:
        self.incarnation += 1
        self.passivating = False
        self.exit_requested = False
        self.stopping = False
        self.status = "restarting" if delay > 0 else "starting"
        self._ended = anyio.Event()
        return self.incarnation

    async def shutdown(self) -> None:
        """Stop the running incarnation, if any: finish the current message, then ``on_stop``.

        Past the shutdown timeout the incarnation is cancelled (S8). Returns once it has ended.
        """
        if not self.alive:
            return
        phase = self.status
        self.stopping = True
        self.exit_requested = True
        self.status = "stopping"
        if phase == "restarting" and self._scope is not None:
            self._scope.cancel()  # asleep in its backoff: no message at stake
        else:
            self.mailbox.wake()  # idle: it wakes, sees the request and ends
        with anyio.move_on_after(self.spec.shutdown_timeout):
            await self._ended.wait()
        if self.alive:
            logger.warning(
                "actor %s did not stop within %g s; cancelling it",
                self.name,
                self.spec.shutdown_timeout,
            )
            if self._scope is not None:
                self._scope.cancel()
            await self._ended.wait()

    def finish(self, error: BaseException | None, *, normal: bool = False) -> None:
        """Stop for good. Unhandled messages become dead letters, or stay pending if durable.

        `error` is the failure that ended the actor, if one did; it is recorded on the message
        that caused it. `normal` says the actor ended itself (``ctx.stop()``). Watchers get
        `Terminated`.
        """
        if self.mailbox.closed:
            return
        self.status = "stopped"
        current, self.current = self.current, None
        unhandled = self.mailbox.close()
        if self.durable:
            held, self._held = self._held, []  # delivered while it was restoring or unloading
            self._leave_pending(current, unhandled + held)
            self._passivated.set()  # whoever waited to bring it back finds it stopped
        else:
            self._dead_letter_unhandled(current, unhandled, error)
        self.system._unregister(self)
        self._wake_idle_waiters()
        if error is not None:
            reason = f"failed: {type(error).__name__}: {error}"
        else:
            reason = "normal" if normal else "stopped"
        watchers, self.watchers = self.watchers, set()
        for watcher in watchers:
            watcher.deliver_system(Terminated(self.name, reason))

    def _dead_letter_unhandled(
        self, current: Envelope | None, unhandled: list[Envelope], error: BaseException | None
    ) -> None:
        """An in-memory actor's unhandled messages become dead letters, in one log line (S8)."""
        if current is not None:
            # A message that already failed keeps its failure on record, whatever stopped us.
            self._dead_letter(current, error or (self.last_error if current.attempts else None))
        for envelope in unhandled:
            self._dead_letter(envelope, None)
        if current is not None or unhandled:
            logger.warning(
                "actor %s stopped with %d message(s) unhandled; they are dead letters",
                self.name,
                len(unhandled) + (current is not None),
            )

    def _leave_pending(self, current: Envelope | None, unhandled: list[Envelope]) -> None:
        """A durable actor's unhandled messages stay pending in the journal (S8, J5)."""
        waiting = ([current] if current is not None else []) + unhandled
        for envelope in waiting:
            if envelope.reply is not None and not envelope.reply.done():
                envelope.reply.set_exception(self.stopped_error())
        if waiting:
            logger.info(
                "actor %s stopped; %d message(s) stay pending in the journal",
                self.name,
                len(waiting),
            )

    def watch(self, watcher: ActorCell) -> None:
        """Send `watcher` a `Terminated` when this actor stops for good (at once if it has)."""
        if Terminated not in watcher.handlers:
            raise DefinitionError(
                f"{watcher.name} watches {self.name} but has no handler for Terminated; add"
                " `def on_terminated(self, msg: actorflow.Terminated)`"
            )
        if self.mailbox.closed:
            watcher.deliver_system(Terminated(self.name, "stopped"))
        else:
            self.watchers.add(watcher)

    def deliver_system(self, message: Message) -> None:
        """Enqueue a runtime message (`Terminated`): never refused, waits in line if full.

        To a durable actor it is journaled first, like any message to it.
        """
        if self.durable:
            self.system._background(self._send_system_durable, message)
        else:
            self._put_or_queue(Envelope(message))  # if it has stopped, nobody is left to tell

    async def _send_system_durable(self, message: Message) -> None:
        await self.send_durable(message, None)

    def _put_or_queue(self, envelope: Envelope) -> bool:
        """Enqueue now, or in the background once there is room; False if it has stopped."""
        try:
            self.mailbox.put_nowait(envelope)
        except Full:
            self.system._background(self.send, envelope)
        except Closed:
            return False
        return True

    # -- one incarnation ---------------------------------------------------------------------

    async def _live(
        self,
        incarnation: int,
        delay: float,
        first: bool,
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        error: BaseException | None = None
        report = True
        try:
            with anyio.CancelScope() as self._scope:
                if self.stopping:
                    task_status.started()  # stopped before it began: nothing to start
                    return
                if delay > 0:
                    await self.system.clock.sleep(delay)
                self.status = "starting"
                try:
                    actor = self._instantiate()
                    await actor.on_start()
                except Exception as exc:
                    if first:
                        report = False
                        raise StartFailed(
                            f"actor {self.name} ({self.spec.actor.__name__}) failed to start:"
                            f" {type(exc).__name__}: {exc}"
                        ) from exc
                    logger.warning(
                        "actor %s failed to restart: %s: %s",
                        self.name,
                        type(exc).__name__,
                        exc,
                        exc_info=exc,
                    )
                    error = exc
                    task_status.started()
                    return
                if not self.stopping:
                    self.status = "running"
                task_status.started()
                try:
                    if self.durable:
                        await self._serve_durable(actor)
                    else:
                        await self._serve(actor)
                except Exception as exc:
                    error = exc
                    await self._failed(exc)
                finally:
                    await self._stop_instance(actor)
        finally:
            self._scope = None
            self._ended.set()
            if report:
                self.parent.child_exited(self, incarnation, error)

    def _instantiate(self) -> Actor[Any]:
        cls = self.spec.actor
        actor = cls.__new__(cls)
        actor.ctx = ActorContext(self)
        actor.state = None
        if self.committed_state is not None and self.state_codec is not None:
            actor.state = self.state_codec.decode(self.committed_state)
        else:
            actor.state = actor.initial_state()
        actor.__init__(*self.spec.args)  # type: ignore[misc]  # the user's constructor
        return actor

    def _bind(self, actor: Actor[Any]) -> dict[type[Message], tuple[Any, bool]]:
        """This incarnation's handlers by message type: (bound method, is it async).

        When the system traces, each is wrapped to make a span per message (O1).
        """
        if self.system._tracing:
            return {
                message_type: (traced(self, getattr(actor, handler.name), handler.is_async), True)
                for message_type, handler in self.handlers.items()
            }
        return {
            message_type: (getattr(actor, handler.name), handler.is_async)
            for message_type, handler in self.handlers.items()
        }

    async def _serve(self, actor: Actor[Any]) -> None:
        handlers = self._bind(actor)
        mailbox = self.mailbox
        get_nowait = mailbox.get_nowait
        while not self.exit_requested:
            envelope = self.current
            if envelope is None:
                envelope = get_nowait()
                if envelope is None:
                    if self._idle_waiters:
                        self._wake_idle_waiters()
                    await mailbox.wait()
                    continue
                self.current = envelope
            handler, is_async = handlers[type(envelope.message)]
            result = handler(envelope.message)
            if is_async:
                result = await result
            self.current = None
            self.handled += 1
            reply = envelope.reply
            if reply is not None and not reply.done():
                reply.set_result(result)

    async def _serve_durable(self, actor: Actor[Any]) -> None:
        """The loop of a durable actor: claim, handle, commit state + outbox + done (J3)."""
        handlers = self._bind(actor)
        mailbox = self.mailbox
        writer = self.writer
        assert writer is not None
        max_attempts = self.spec.max_attempts
        passivate_after = self.spec.passivate_after
        while not self.exit_requested:
            envelope = self.current
            if envelope is None:
                envelope = mailbox.get_nowait()
                if envelope is None:
                    if self._idle_waiters:
                        self._wake_idle_waiters()
                    if passivate_after is None:
                        await mailbox.wait()
                    elif await self._idle_for(passivate_after):
                        return
                    continue
                self.current = envelope
            assert envelope.id is not None
            if envelope.attempts >= max_attempts:
                # It failed every attempt before: most likely it took the process down (S7).
                await self._dead_letter_crashed(envelope)
                continue
            if not envelope.claimed:
                await writer.claim(envelope.id)  # the attempt counts before it starts
                envelope.claimed = True
            turn = self.turn = Turn(self, envelope)
            token = current_turn.set(turn)
            _durable.open_turns += 1
            try:
                handler, is_async = handlers[type(envelope.message)]
                result = handler(envelope.message)
                if is_async:
                    result = await result
            finally:
                _durable.open_turns -= 1
                turn.closed = True
                self.turn = None
                current_turn.reset(token)
            crash_point("turn.after_handler")
            state = None if self.state_codec is None else self.state_codec.encode(actor.state)
            following = mailbox.peek()
            claim = None
            if following is not None and not following.claimed and following.id is not None:
                claim = following.id  # its first attempt rides on this commit
            done = Done(envelope.id, self.name, state, time.time(), envelope.seq)
            self.committing = True
            try:
                await writer.processed(
                    done,
                    turn.records,
                    turn.deliveries,
                    claim,
                    turn.timers or (),
                    turn.cancels or (),
                )
            finally:
                self.committing = False
            if turn.timers or turn.cancels:
                self.system._timers.committed(turn.timers or (), turn.cancels or ())
            if claim is not None and following is not None:
                following.claimed = True
            if state is not None:
                self.committed_state = state
            self.current = None
            self.handled += 1
            turn.deliver_local()
            reply = envelope.reply
            if reply is not None and not reply.done():
                reply.set_result(result)

    async def _idle_for(self, seconds: float) -> bool:
        """Wait for a message; True if none came for `seconds` and the actor is unloading."""
        mailbox = self.mailbox
        with anyio.move_on_after(seconds):
            await mailbox.wait()
            return False
        if len(mailbox) or mailbox.reserved or self._held or self.watchers or self.stopping:
            return False  # a send is on its way (or someone watches it): stay
        # From here on deliveries are held for the next incarnation's restore (J5).
        self.passivating = True
        self.restoring = True
        self._passivated = anyio.Event()
        return True

    def passivated(self) -> None:
        """Its supervisor let it go: out of memory until its next message (J5)."""
        self.status = "passivated"
        self.committed_state = None  # read again from the journal when it comes back
        self.system._recovery.passivate(self)
        self._passivated.set()
        if self._held:
            self._come_back()

    async def wait_passivated(self) -> None:
        """Wait until an unloading incarnation has ended and its supervisor let it go."""
        await self._passivated.wait()

    def _come_back(self) -> None:
        if not self.activating:
            self.activating = True
            self.system._background(self.system._recovery.come_back, self)

    async def _dead_letter_crashed(self, envelope: Envelope) -> None:
        assert self.writer is not None
        assert envelope.id is not None
        reason = (
            f"{envelope.attempts} attempt(s) counted and none finished: the process stopped"
            " during them (a crash or a kill), or they failed"
        )
        await self.writer.failed(Failed(envelope.id, envelope.attempts, reason, None, True))
        self.current = None
        self._dead_letter(envelope, ProcessDied(reason), log=True)

    # -- durable delivery ------------------------------------------------------------------------

    async def send_durable(
        self, message: Message, reply: Any, message_id: str | None = None
    ) -> None:
        """Write-ahead send (J2): returns once the message is committed and in the mailbox.

        With `message_id`, a message already journaled under that id makes this a no-op.
        """
        if not self.durable:
            raise ActorflowError(
                f"{self.name} is not durable: a message id means nothing without a journal"
            )
        mailbox = self.mailbox
        try:
            await mailbox.reserve()
        except Closed:
            raise self.stopped_error() from None
        # When this one is next in line (the actor idle, or only committing what it handled),
        # its first attempt is counted in the same commit: no separate claim (S7).
        first = (
            not len(mailbox) and mailbox.reserved == 1 and (self.current is None or self.committing)
        )
        # Sent from a durable handler (an ask, which cannot wait for that handler's commit):
        # it still joins the handler's conversation (J7).
        turn = current_turn.get() if _durable.open_turns else None
        conversation = None if turn is None else turn.conversation
        envelope = Envelope(message, reply, id=message_id or new_message_id())
        envelope.conversation = conversation
        assert self.writer is not None
        try:
            record = record_for(
                message,
                self.name,
                envelope.id,  # type: ignore[arg-type]  # just set
                None if turn is None else turn.cell.name,
                conversation,
                None if turn is None else turn.envelope.id,
                envelope.trace,
            )
            if first:
                record.attempts = 1
                envelope.claimed = True
            await self.writer.append([record], [self._reserved_delivery(envelope)])
        except BaseException:
            if not mailbox.closed:
                mailbox.release()
            raise

    def _reserved_delivery(self, envelope: Envelope) -> Callable[[int | None], None]:
        def deliver(seq: int | None) -> None:
            if seq is None:
                self.mailbox.release()  # a duplicate id: nothing new to deliver
            else:
                envelope.seq = seq
                self.accept_committed(envelope, reserved=True)

        return deliver

    def committed_delivery(self, envelope: Envelope) -> Callable[[int | None], None]:
        """Deliver a message from another durable actor's outbox once it is committed."""

        def deliver(seq: int | None) -> None:
            if seq is not None:
                envelope.seq = seq
                self.accept_committed(envelope, reserved=False)

        return deliver

    def accept_committed(self, envelope: Envelope, *, reserved: bool) -> None:
        mailbox = self.mailbox
        if reserved:
            mailbox.reserved -= 1
        if mailbox.closed:
            # The actor stopped: the journal keeps the message pending; an asker hears now.
            reply = envelope.reply
            if reply is not None and not reply.done():
                reply.set_exception(self.stopped_error())
            return
        if self.restoring:
            self._held.append(envelope)  # goes in after the journal's older pending messages
            if self.passivating or self.status == "passivated":
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
        read = self._read(record)
        if isinstance(read, Failed):
            return read
        self.accept_committed(read, reserved=False)
        return None

    def holds(self, message_id: str) -> bool:
        """Whether `message_id` is being handled, queued, or held until restored."""
        current = self.current
        if current is not None and current.id == message_id:
            return True
        return any(e.id == message_id for e in self.mailbox) or any(
            e.id == message_id for e in self._held
        )

    def deliver_after_commit(self, envelope: Envelope) -> None:
        """Deliver a durable actor's message to this in-memory actor after that commit."""
        if not self._put_or_queue(envelope):
            self._dead_letter(envelope, None)

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
        held = {envelope.id: envelope for envelope in self._held}
        self._held = []
        unreadable: list[Failed] = []
        if self.mailbox.closed:
            return unreadable  # stopped for good while the journal was read: all stay pending
        for row in pending:
            envelope = held.pop(row.id, None)
            read = self._read(row) if envelope is None else envelope
            if isinstance(read, Failed):
                unreadable.append(read)
            else:
                self.mailbox.force(read)
        self.restoring = False
        self.activating = False
        for envelope in held.values():
            self.mailbox.force(envelope)
        return unreadable

    def _read(self, row: MessageRecord) -> Envelope | Failed:
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

    async def _failed(self, exc: BaseException) -> None:
        """Count a handler failure; dead-letter the message if it has no attempts left (S7)."""
        self.failed += 1
        self.last_error = exc
        envelope = self.current
        if envelope is None:
            return
        envelope.attempts += 1
        envelope.claimed = False
        kind = type(envelope.message).__name__
        dead = envelope.attempts >= self.spec.max_attempts or self.restart == "temporary"
        if self.writer is not None and envelope.id is not None:
            text = f"{type(exc).__name__}: {exc}"
            trace = "".join(traceback.format_exception(exc)) if dead else None
            try:
                await self.writer.failed(Failed(envelope.id, envelope.attempts, text, trace, dead))
            except JournalError as journal_error:
                # The attempt was counted when it was claimed; only the error text is lost.
                logger.warning("could not record the failure in the journal: %s", journal_error)
        if dead:
            self.current = None
            self._dead_letter(envelope, exc, log=True)
            return
        logger.warning(
            "actor %s failed handling %s (attempt %d of %d), retrying after restart: %s: %s",
            self.name,
            kind,
            envelope.attempts,
            self.spec.max_attempts,
            type(exc).__name__,
            exc,
        )

    async def _stop_instance(self, actor: Actor[Any]) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(self.spec.shutdown_timeout):
            try:
                await actor.on_stop()
            except Exception as exc:
                logger.warning(
                    "actor %s raised in on_stop: %s: %s",
                    self.name,
                    type(exc).__name__,
                    exc,
                    exc_info=exc,
                )

    def _dead_letter(
        self, envelope: Envelope, error: BaseException | None, *, log: bool = False
    ) -> None:
        """Record `envelope` as a dead letter and answer its asker; `log` it with its traceback."""
        letter = DeadLetter.of(self.name, envelope.message, envelope.attempts, error, envelope.id)
        self.dead_letters += 1
        self.system._dead_letter(letter)
        reply = envelope.reply
        if log and error is not None:
            logger.error(
                "actor %s dead-lettered %s after %d attempt(s): %s",
                self.name,
                type(envelope.message).__name__,
                envelope.attempts,
                letter.error,
                exc_info=error,
            )
        if reply is None or reply.done():
            return
        if error is None:
            reply.set_exception(self.stopped_error())
            return
        failure = ActorFailed(
            f"{self.name} failed handling {type(envelope.message).__name__}: {letter.error}",
            actor=self.name,
        )
        failure.__cause__ = error
        reply.set_exception(failure)

    # -- sender side -------------------------------------------------------------------------

    async def send(self, envelope: Envelope) -> None:
        """Enqueue, waiting for room (backpressure)."""
        try:
            await self.mailbox.put(envelope)
        except Closed:
            raise self.stopped_error() from None

    async def send_until(self, envelope: Envelope, reply: Any) -> None:
        """Enqueue, waiting for room until `reply` is done (an ask that timed out)."""
        with anyio.CancelScope() as scope:
            reply.add_done_callback(_cancel_scope(scope))
            await self.send(envelope)

    def wrong_type(self, message: object) -> MessageTypeError:
        accepted = ", ".join(sorted(t.__name__ for t in self.handlers)) or "no messages"
        if not isinstance(message, Message):
            what = f"{type(message).__name__}, which is not a Message"
        else:
            what = type(message).__name__
        return MessageTypeError(f"actor {self.name} does not accept {what}; it accepts {accepted}")

    def full_error(self) -> MailboxFull:
        return MailboxFull(
            f"mailbox of {self.name} is full ({self.capacity} messages); use `await tell()` to"
            " wait for room"
        )

    def stopped_error(self) -> ActorStopped:
        return ActorStopped(f"actor {self.name} has stopped", actor=self.name)

    async def stop_for_good(self) -> None:
        await self.parent.stop_child(self)

    # -- observation -------------------------------------------------------------------------

    def depth(self) -> int:
        return len(self.mailbox)

    def statistics(self) -> ActorStatistics:
        return ActorStatistics(
            name=self.name,
            status=self.status,
            mailbox_depth=len(self.mailbox),
            mailbox_capacity=self.capacity,
            handled=self.handled,
            failed=self.failed,
            restarts=self.restarts,
            dead_letters=self.dead_letters,
        )

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being handled (or stopped for good)."""
        if self.status in ("stopped", "passivated"):
            return True
        return self.current is None and self.mailbox.idle

    async def wait_idle(self) -> None:
        """Wait until the actor has handled everything queued and waits for more."""
        while not self.idle:
            event = anyio.Event()
            self._idle_waiters.append(event)
            await event.wait()

    def _wake_idle_waiters(self) -> None:
        waiters, self._idle_waiters = self._idle_waiters, []
        for event in waiters:
            event.set()


_codec_cache: dict[type[Actor[Any]], tuple[Codec[Any] | None, Codec[Any] | None]] = {}


def _codecs(cls: type[Actor[Any]]) -> tuple[Codec[Any] | None, Codec[Any] | None]:
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


class ProcessDied(Exception):
    """The failure recorded for a message whose every attempt ended with the process."""


def _cancel_scope(scope: anyio.CancelScope) -> Callable[[Any], None]:
    def cancel(_: Any) -> None:
        scope.cancel()

    return cancel
