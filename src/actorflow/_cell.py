"""The actor cell: one actor's mailbox, counters and incarnations, kept across restarts.

An actor lives as a series of incarnations (one task each), started by its supervisor: setup
(construct, ``on_start``), running (one message at a time, A1), teardown (``on_stop``). The
mailbox, the ref and the message being retried belong to the cell and outlive incarnations (S6).

This is the in-memory cell. A durable actor's cell (``durable._cell.DurableCell``) overrides
the hooks marked so below: where its state comes from, how it serves messages, where a failure
and its leftover messages are recorded, and how messages reach its mailbox. Nothing here
knows of a journal (L1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
from anyio.abc import TaskGroup, TaskStatus

from ._envelope import Envelope
from ._errors import (
    StartFailed,
)
from ._handlers import Behaviour
from ._inbox import Inbox
from ._lifecycle import (
    EXITING,
    PASSIVATED,
    RESTARTING,
    RUNNING,
    STARTING,
    STOPPED,
    STOPPING,
    Lifecycle,
    is_fatal,
    is_requested_cancel,
    is_retryable,
)
from ._message import Message, Terminated
from ._ref import ActorRef
from ._runtime import Runtime, Supervising
from ._spec import Child
from ._target import ActorStatistics
from ._tracing import traced

__all__ = ["ActorCell", "CannotStart"]

logger = logging.getLogger("actorflow")

Handlers = dict[type[Message], tuple[Callable[[Message], Any], bool]]


class CannotStart(Exception):
    """Raised by a cell's start when restarting cannot help (a durable actor whose stored
    state does not decode): its supervisor lets it go, and the rest of the tree runs.

    `level` is how loud its supervisor logs it (an actor that runs on another node, C2, is no
    error). A `StartFailed` as its cause is what a spawn of it raises.
    """

    def __init__(self, reason: str, *, level: int = logging.ERROR) -> None:
        super().__init__(reason)
        self.level = level


class ActorCell(Inbox, Lifecycle):
    """The runtime record of one actor (internal; users hold an `ActorRef`)."""

    def __init__(self, spec: Child, name: str, runtime: Runtime, parent: Supervising) -> None:
        Lifecycle.__init__(self, name)
        Inbox.__init__(self, spec, runtime)
        self.spec = spec
        self.parent = parent
        self.restart = spec.restart
        self.ref: ActorRef[Any] = ActorRef(self)
        self.last_error: BaseException | None = None  # the last handler failure
        self.exit_error: BaseException | None = None  # what ended the last incarnation
        self.handled = 0
        self.failed = 0
        self._scope: anyio.CancelScope | None = None
        self._idle_waiters: list[anyio.Event] = []

    # -- the supervisor's verbs: start, shutdown, close -------------------------------------

    async def start(self, tg: TaskGroup, *, first: bool) -> None:
        """Start an incarnation now and wait until its ``on_start`` returned.

        On the first start a failing ``on_start`` raises `StartFailed`; later, it is reported to
        the supervisor as a failure like any other.
        """
        await self._before_start()
        incarnation = self.launch(0.0)
        await tg.start(self._live, incarnation, 0.0, first)

    def start_soon(self, tg: TaskGroup, delay: float) -> None:
        """Start an incarnation after `delay` seconds (a restart's backoff) without waiting."""
        incarnation = self.launch(delay)
        tg.start_soon(self._live, incarnation, delay, False, name=f"actor {self.name}")

    async def shutdown(self) -> None:
        """End the running incarnation, if any: finish the current message, then ``on_stop``.

        Past the shutdown timeout the incarnation is cancelled (S8). Returns once it has ended.
        """
        if not self.alive:
            return
        if self.phase is STOPPING:  # being stopped already (its supervisor and a removal)
            await self.wait_ended()
            return
        in_backoff = self.phase is RESTARTING
        self.enter(STOPPING)
        if in_backoff and self._scope is not None:
            self._scope.cancel()  # asleep in its backoff: no message at stake
        else:
            self.mailbox.wake()  # idle: it wakes, sees the phase and ends
        with anyio.move_on_after(self.spec.shutdown_timeout):
            await self.wait_ended()
        if self.alive:
            logger.warning(
                "actor %s did not stop within %g s; cancelling it",
                self.name,
                self.spec.shutdown_timeout,
            )
            if self._scope is not None:
                self._scope.cancel()
            await self.wait_ended()

    def close(self, error: BaseException | None = None, *, normal: bool = False) -> None:
        """Stop for good: the mailbox closes, what it held is left as `_leave` says, and
        watchers get `Terminated`.

        `error` is the failure that ended the actor, if one did (else the one that ended its
        last incarnation, S4); `normal` says the actor ended itself (``ctx.stop()``).
        """
        if self.phase is STOPPED:
            return
        error = error if error is not None else self.exit_error
        self.enter(STOPPED)
        current, self.current = self.current, None
        self._leave(current, self.mailbox.close(), error)
        self.runtime.retire(self)
        self._wake_idle_waiters()
        if error is not None:
            reason = f"failed: {type(error).__name__}: {error}"
        else:
            reason = "normal" if normal else "stopped"
        watchers, self.watchers = self.watchers, set()
        for watcher in watchers:
            watcher.deliver_system(Terminated(self.name, reason))

    def exit(self) -> None:
        """End the running incarnation after its current message: a normal exit."""
        if self.phase in (STARTING, RUNNING):
            self.enter(EXITING)

    async def remove(self) -> None:
        """Stop for good through the supervisor (``ref.stop()``)."""
        await self.parent.remove(self)

    def passivated(self) -> None:
        """Its supervisor let it go as it unloaded (J5); only durable cells unload."""
        self.enter(PASSIVATED)

    # -- hooks a durable cell overrides -------------------------------------------------------

    async def _before_start(self) -> None:
        """Called before each start that is not a restart's (a durable actor restores).

        Raises `CannotStart` if the actor must stay out.
        """

    def _state_of(self, actor: Behaviour) -> Any:
        """The state a new incarnation starts from: in memory, the initial one."""
        return actor.initial_state()

    def _start_failure_raises(self, first: bool) -> bool:
        """Whether a failing first start raises `StartFailed` to whoever started it."""
        return first

    async def _record_failure(self, envelope: Envelope, exc: BaseException, dead: bool) -> None:
        """Record a failed attempt at `envelope` (in memory: nothing to record)."""

    def _leave(
        self, current: Envelope | None, unhandled: list[Envelope], error: BaseException | None
    ) -> None:
        """What becomes of the messages a stopped actor did not handle: dead letters (S8)."""
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
                if self.phase is STOPPING:
                    task_status.started()  # stopped before it began: nothing to start
                    return
                if delay > 0:
                    await self.runtime.clock.sleep(delay)
                    if self.phase is STOPPING:
                        # Stopped as its backoff ended: the stop's cancellation reaches a task
                        # only at its next wait, and this one had woken already.
                        task_status.started()
                        return
                    self.enter(STARTING)
                try:
                    actor = await self._set_up(first)
                except StartFailed:
                    report = False
                    raise
                task_status.started()
                if isinstance(actor, BaseException):
                    error = actor
                    return
                try:
                    await self._serve(actor)
                except BaseException as exc:
                    if is_requested_cancel(exc):
                        raise
                    if is_fatal(exc):
                        report = False
                        self.runtime.halt(exc)
                        return
                    error = exc
                    await self._failed(exc)
                finally:
                    await self._stop_instance(actor)
        finally:
            self._scope = None
            self.exit_error = error
            self.ended()
            if report:
                self.parent.child_exited(self, incarnation, error)

    async def _set_up(self, first: bool) -> Behaviour | BaseException:
        """Construct the actor and run ``on_start``; returns the actor, or a restart's failure."""
        try:
            actor = self.spec.actor.__actorflow_new__(self, self.spec.args, self._state_of)
            await actor.on_start()
        except BaseException as exc:
            if is_requested_cancel(exc) or is_fatal(exc):
                raise
            if self._start_failure_raises(first):
                raise StartFailed(
                    f"actor {self.name} ({self.spec.actor.__name__}) failed to start:"
                    f" {type(exc).__name__}: {exc}"
                ) from exc
            logger.warning("actor %s failed to restart: %s: %s", self.name, type(exc).__name__, exc)
            return exc
        if self.phase is STARTING:
            self.enter(RUNNING)
        return actor

    def _bind(self, actor: Behaviour) -> Handlers:
        """This incarnation's handlers by message type: (bound method, is it async).

        When the system traces, each is wrapped to make a span per message (O1).
        """
        tracer = self.runtime.tracer
        if tracer is not None:
            return {
                message_type: (
                    traced(
                        tracer,
                        self.name,
                        self._current,
                        getattr(actor, handler.name),
                        handler.is_async,
                    ),
                    True,
                )
                for message_type, handler in self.handlers.items()
            }
        return {
            message_type: (getattr(actor, handler.name), handler.is_async)
            for message_type, handler in self.handlers.items()
        }

    def _current(self) -> Envelope | None:
        return self.current

    async def _serve(self, actor: Behaviour) -> None:
        """Handle messages one at a time until the phase says stop (hook: durable turns)."""
        handlers = self._bind(actor)
        mailbox = self.mailbox
        get_nowait = mailbox.get_nowait
        while self.phase is RUNNING:
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

    async def _failed(self, exc: BaseException) -> None:
        """Count a handler failure; dead-letter the message if it has no attempts left (S7)."""
        self.failed += 1
        self.last_error = exc
        envelope = self.current
        if envelope is None:
            return
        envelope.attempts += 1
        dead = (
            envelope.attempts >= self.spec.max_attempts
            or self.restart == "temporary"
            or not is_retryable(exc)  # another attempt would end the same (StepOutcomeUnknown)
        )
        await self._record_failure(envelope, exc, dead)
        if dead:
            self.current = None
            self._dead_letter(envelope, exc, log=True)
            return
        logger.warning(
            "actor %s failed handling %s (attempt %d of %d), retrying after restart: %s: %s",
            self.name,
            type(envelope.message).__name__,
            envelope.attempts,
            self.spec.max_attempts,
            type(exc).__name__,
            exc,
        )

    async def _stop_instance(self, actor: Behaviour) -> None:
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
        """Nothing queued and nothing being handled (or stopped for good, or unloaded)."""
        if self.phase in (STOPPED, PASSIVATED):
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
