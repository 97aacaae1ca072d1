"""How messages come into an actor (A2, M2): its mailbox's doors, death watch, dead letters.

`Inbox` is the part of the actor cell that senders see through `ActorRef` (the `Target`
port): enqueue now or wait for room, refuse a message type or a stopped actor with a clear
error, deliver what the runtime holds (a committed turn's sends, fired timers, `Terminated`),
and record the messages that will not be handled. A durable cell overrides the doors so that
each message is committed before it is enqueued (J2).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from ._deadletter import DeadLetter
from ._deadlines import Deadlines
from ._envelope import Envelope
from ._errors import (
    ActorFailed,
    ActorflowError,
    ActorStopped,
    DefinitionError,
    MailboxFull,
    MessageTypeError,
)
from ._handlers import Handler, handlers_of
from ._mailbox import Closed, Full, Mailbox
from ._message import Message, Terminated
from ._runtime import Runtime
from ._spec import Child
from ._target import Target

__all__ = ["Inbox"]

logger = logging.getLogger("actorflow")


class Inbox:
    """An actor's mailbox and the ways into it (a base of the actor cell)."""

    name: str

    def __init__(self, spec: Child, runtime: Runtime) -> None:
        self.runtime = runtime
        self.handlers: dict[type[Message], Handler] = handlers_of(spec.actor)
        self.mailbox = Mailbox(spec.mailbox_size)
        # Enqueue at once, or raise the mailbox's Full or Closed: the mailbox's own method,
        # bound once (the hot path of a tell). A durable cell's returns the send to await
        # instead, which commits the message first (J2).
        self.send_nowait: Callable[[Envelope], Awaitable[None] | None] = self.mailbox.put_nowait
        self.capacity = spec.mailbox_size
        self.deadlines: Deadlines = runtime.deadlines
        self.current: Envelope | None = None  # being handled, or to retry after a restart
        self.dead_letters = 0
        self.watchers: set[Target] = set()

    # -- doors (a durable cell commits first) -------------------------------------------------

    async def send(self, envelope: Envelope) -> None:
        """Enqueue, waiting for room (backpressure)."""
        try:
            await self.mailbox.put(envelope)
        except Closed:
            raise self.stopped_error() from None

    async def send_until(self, envelope: Envelope, reply: asyncio.Future[Any]) -> None:
        """Enqueue, waiting for room until `reply` is done (an ask that timed out)."""
        with anyio.CancelScope() as scope:
            reply.add_done_callback(_cancel_scope(scope))
            await self.send(envelope)

    async def send_identified(self, message: Message, message_id: str) -> None:
        raise ActorflowError(
            f"{self.name} is not durable: a message id means nothing without a journal"
        )

    def tell_nowait(self, envelope: Envelope) -> None:
        try:
            self.mailbox.put_nowait(envelope)
        except Full:
            raise self.full_error() from None
        except Closed:
            raise self.stopped_error() from None

    def deliver_system(self, message: Message) -> None:
        """Enqueue a runtime message (`Terminated`): never refused, waits in line if full."""
        self.put_or_queue(Envelope(message))  # if it has stopped, nobody is left to tell

    def deliver(self, envelope: Envelope) -> None:
        """Deliver a message the runtime holds (a committed turn's send, J3; a fired timer, J6):
        never refused; a dead letter if the actor has stopped."""
        if not self.put_or_queue(envelope):
            self._dead_letter(envelope, None)

    def put_or_queue(self, envelope: Envelope) -> bool:
        """Enqueue now, or in the background once there is room; False if it has stopped."""
        try:
            self.mailbox.put_nowait(envelope)
        except Full:
            self.runtime.background(self.send, envelope)
        except Closed:
            return False
        return True

    def watch(self, watcher: Target) -> None:
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

    def unwatch(self, watcher: Target) -> None:
        self.watchers.discard(watcher)

    # -- errors ------------------------------------------------------------------------------

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

    def depth(self) -> int:
        return len(self.mailbox)

    def _dead_letter(
        self, envelope: Envelope, error: BaseException | None, *, log: bool = False
    ) -> None:
        """Record `envelope` as a dead letter and answer its asker; `log` it with its traceback."""
        letter = DeadLetter.of(self.name, envelope.message, envelope.attempts, error, envelope.id)
        self.dead_letters += 1
        self.runtime.dead_letter(letter)
        if log and error is not None:
            logger.error(
                "actor %s dead-lettered %s after %d attempt(s): %s",
                self.name,
                type(envelope.message).__name__,
                envelope.attempts,
                letter.error,
                exc_info=error,
            )
        reply = envelope.reply
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


def _cancel_scope(scope: anyio.CancelScope) -> Callable[[Any], None]:
    def cancel(_: Any) -> None:
        scope.cancel()

    return cancel
