"""What a reference needs of the actor it names (A2, A3, A5), and what it reports of it (O2).

`ActorRef` talks to its actor through `Target`, a port the cells implement: the in-memory cell
puts messages in its mailbox, the durable cell commits them first (J2). Neither the ref nor the
outbox of a turn imports the cells.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias, final

from ._deadlines import Deadlines
from ._envelope import Envelope
from ._errors import ActorStopped, MessageTypeError
from ._message import Message

__all__ = ["ActorStatistics", "Status", "Target"]

Status: TypeAlias = Literal[
    "starting", "running", "restarting", "stopping", "stopped", "passivated"
]


@final
@dataclass(frozen=True, slots=True)
class ActorStatistics:
    """A snapshot of one actor's counters (O2)."""

    name: str
    status: Status
    mailbox_depth: int
    mailbox_capacity: int
    handled: int
    failed: int
    restarts: int
    dead_letters: int


class Target(Protocol):
    """An actor as its references see it."""

    @property
    def name(self) -> str:
        """The actor's name."""
        ...

    @property
    def capacity(self) -> int:
        """The mailbox's capacity (A2)."""
        ...

    @property
    def deadlines(self) -> Deadlines:
        """Where asks register their timeouts (A3)."""
        ...

    @property
    def handlers(self) -> Mapping[type[Message], Any]:
        """The message types the actor accepts (M2)."""
        ...

    @property
    def status(self) -> Status:
        """Where the actor is in its life."""
        ...

    def send_nowait(self, envelope: Envelope) -> Awaitable[None] | None:
        """Enqueue at once (None), or return the send to await; raises the mailbox's ``Full``
        or ``Closed``. A durable actor's always returns a send: it commits first (J2)."""
        ...

    async def send(self, envelope: Envelope) -> None:
        """Enqueue, waiting for room (and, if durable, for the journal)."""
        ...

    async def send_until(self, envelope: Envelope, reply: asyncio.Future[Any]) -> None:
        """Enqueue as `send` does, giving up once `reply` is done (an ask that timed out)."""
        ...

    async def send_identified(self, message: Message, message_id: str) -> None:
        """Enqueue under a caller's id: a second send of one id is a no-op (durable only)."""
        ...

    def tell_nowait(self, envelope: Envelope) -> None:
        """Enqueue without waiting, or raise the error ``ref.tell_nowait`` documents."""
        ...

    def wrong_type(self, message: object) -> MessageTypeError:
        """The error for a message the actor does not accept (M2)."""
        ...

    def stopped_error(self) -> ActorStopped:
        """The error for a send to an actor that has stopped for good."""
        ...

    def depth(self) -> int:
        """How many messages wait in the mailbox."""
        ...

    def statistics(self) -> ActorStatistics:
        """A snapshot of the actor's counters."""
        ...

    async def remove(self) -> None:
        """Stop the actor for good through its supervisor."""
        ...

    def watch(self, watcher: Target) -> None:
        """Send `watcher` a `Terminated` when this actor stops for good."""
        ...

    def unwatch(self, watcher: Target) -> None:
        """Stop sending `watcher` a `Terminated`."""
        ...

    def deliver_system(self, message: Message) -> None:
        """Enqueue a runtime message (`Terminated`), never refused."""
        ...

    async def wait_idle(self) -> None:
        """Wait until the actor has handled everything queued."""
        ...
