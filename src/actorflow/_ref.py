"""`ActorRef`: the handle through which everyone else talks to an actor (A2, A3, A5)."""

from __future__ import annotations

import asyncio
import math
from typing import Any, Generic, TypeVar, final, overload

from . import _outbox
from ._envelope import Envelope
from ._errors import UnexpectedReply
from ._mailbox import Closed, Full
from ._message import Message
from ._target import ActorStatistics, Status, Target

__all__ = ["ActorRef", "cell_of"]

A = TypeVar("A", covariant=True)
R = TypeVar("R")

_get_running_loop = asyncio.get_running_loop


@final
class ActorRef(Generic[A]):
    """A reference to an actor: send it messages, ask it questions, read its statistics.

    Refs are cheap, hashable and compare equal when they name the same actor. A ref keeps working
    across restarts of its actor (S6); messages sent while it restarts wait in its mailbox. Do not
    create refs yourself: ``spawn`` and ``lookup`` return them.
    """

    __slots__ = ("_cell",)

    def __init__(self, cell: Target) -> None:
        self._cell = cell

    @property
    def name(self) -> str:
        """The actor's name (unique among live actors of its system)."""
        return self._cell.name

    @property
    def status(self) -> Status:
        """Where the actor is in its life: starting, running, restarting, stopping or stopped."""
        return self._cell.status

    async def tell(self, message: Message, *, id: str | None = None) -> None:
        """Send `message`; waits while the mailbox is full (backpressure, A2).

        Returns once the message is in the mailbox: from then on it is handled or ends as a dead
        letter. To a durable actor it returns once the message is committed to the journal
        (J2); `id` then makes the send idempotent: a second message with the same id is a no-op
        (for producers that retry after a crash). Raises `MessageTypeError` if the actor does
        not accept the type (M2) and `ActorStopped` if the actor has stopped for good; in both
        cases nothing was enqueued.
        """
        cell = self._cell
        if type(message) not in cell.handlers:
            raise cell.wrong_type(message)
        if _outbox.opened:
            outbox = _outbox.current()
            if outbox is not None:
                outbox.send(cell, message, id)  # leaves when the sender's turn commits (J3)
                return
        if id is not None:
            await cell.send_identified(message, id)
            return
        envelope = Envelope(message)
        try:
            pending = cell.send_nowait(envelope)
        except Full:
            await cell.send(envelope)  # room to wait for
            return
        except Closed:
            raise cell.stopped_error() from None
        if pending is not None:
            await pending  # a journal to write first (J2)

    def tell_nowait(self, message: Message) -> None:
        """Send `message` without waiting; raises `MailboxFull` if there is no room (A2).

        Raises as ``tell`` does otherwise. Nothing is enqueued when it raises. Inside a durable
        actor's handler it joins the outbox like ``tell``; elsewhere, a durable actor cannot be
        told without waiting for the journal, and this raises `ActorflowError`.
        """
        cell = self._cell
        if type(message) not in cell.handlers:
            raise cell.wrong_type(message)
        outbox = _outbox.current()
        if outbox is not None:
            outbox.send(cell, message, None)
            return
        cell.tell_nowait(Envelope(message))

    @overload
    async def ask(self, message: Message, *, timeout: float = ...) -> Any: ...

    @overload
    async def ask(self, message: Message, *, timeout: float = ..., expect: type[R]) -> R: ...

    async def ask(
        self, message: Message, *, timeout: float = 5.0, expect: type[Any] | None = None
    ) -> Any:
        """Send `message` and wait for the handler's reply (A3).

        Waits for room in the mailbox too; `timeout` covers both. Raises `AskTimeout` (also a
        `TimeoutError`) when no reply came in time: the message is still handled later and its
        reply dropped. Raises `ActorFailed` when the handler failed on its last attempt, with the
        handler's exception as ``__cause__``. With ``expect=T`` the reply must be a ``T``, else
        `UnexpectedReply`. A `timeout` that is not a finite number of seconds > 0 raises
        `ValueError`, and nothing is sent.
        """
        cell = self._cell
        if type(message) not in cell.handlers:
            raise cell.wrong_type(message)
        if not 0 < timeout < math.inf:  # also False for NaN
            raise ValueError(f"ask timeout must be a finite number of seconds > 0, not {timeout!r}")
        reply: asyncio.Future[Any] = _get_running_loop().create_future()
        envelope = Envelope(message, reply)
        # Not a cancel scope per ask (fail_after costs ~7 us here) nor a timer per ask (~1.7 us):
        # asks share one timer per millisecond of deadlines.
        deadline = cell.deadlines.add(reply, timeout, (cell.name, type(message), timeout))
        try:
            try:
                pending = cell.send_nowait(envelope)
            except Full:
                pending = cell.send_until(envelope, reply)
            except Closed:
                raise cell.stopped_error() from None
            if pending is not None:
                await pending
            result = await reply
        finally:
            deadline.pop(reply, None)
        if expect is not None and not isinstance(result, expect):
            raise UnexpectedReply(
                f"{self.name} replied {type(result).__name__} to {type(message).__name__},"
                f" expected {expect.__name__}"
            )
        return result

    async def stop(self) -> None:
        """Stop the actor for good through its supervisor and wait until it has stopped.

        The current message finishes (within the shutdown timeout); messages still in the mailbox
        become dead letters (a durable actor's stay pending in the journal). The actor is not
        restarted, whatever its restart type.
        """
        await self._cell.remove()

    def statistics(self) -> ActorStatistics:
        """Return a snapshot of the actor's counters and mailbox."""
        return self._cell.statistics()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActorRef) and other._cell is self._cell

    def __hash__(self) -> int:
        return id(self._cell)

    def __repr__(self) -> str:
        cell = self._cell
        return f"<ActorRef {cell.name} {cell.status} mailbox {cell.depth()}/{cell.capacity}>"


def cell_of(ref: ActorRef[Any]) -> Target:
    """The actor a reference names, for the runtime's own modules (not for users)."""
    return ref._cell
