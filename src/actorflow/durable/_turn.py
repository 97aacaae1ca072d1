"""A *turn*: one handled message of a durable actor (J3).

Messages the handler sends go into the turn's outbox and leave only after the turn commits,
with the new state and the done-mark, in one transaction; so do the timers it sets (J6) and
its steps' bookkeeping (J4). While the handler runs, the turn is the task's current outbox
(``_outbox``), which is how ``ref.tell`` finds it without the core knowing of journals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, final

from .._cell import ActorCell
from .._envelope import Envelope
from .._errors import ActorflowError
from .._ids import child_message_id
from .._message import Message
from .._target import Target
from ..journal import MessageRecord, TimerRecord
from ._delivery import JournaledCell
from ._records import record_for

__all__ = ["Turn"]


@final
class Turn:
    """One message being handled by a durable actor, collecting what it sends."""

    __slots__ = (
        "cancels",
        "cell",
        "closed",
        "commit",
        "deliveries",
        "envelope",
        "local",
        "positions",
        "recorded",
        "records",
        "result",
        "state",
        "step_calls",
        "steps_made",
        "timers",
    )

    commit: asyncio.Future[None]
    """The commit of the handled turn, set when it is queued."""

    def __init__(self, cell: JournaledCell, envelope: Envelope) -> None:
        self.cell = cell
        self.envelope = envelope
        # Most turns send nothing, set no timer and make no step: these are made on first use.
        self.records: list[MessageRecord] | None = None
        self.deliveries: list[Callable[[int | None], None]] | None = None
        self.local: list[tuple[ActorCell, Envelope]] | None = None
        self.timers: list[TimerRecord] | None = None
        self.cancels: list[str] | None = None
        self.step_calls: dict[str, int] | None = None
        self.recorded: dict[str, bytes] | None = None  # this message's steps, once read (J4)
        self.positions = 0  # messages and timers made so far, each numbered in order (R2)
        self.steps_made = 0  # steps called so far, of any name (R2)
        self.closed = False
        # Once handled: the state and the result it commits with (`commit`: that commit).
        self.state: bytes | None = None
        self.result: Any = None

    def set_timer(self, timer: TimerRecord) -> None:
        """Store `timer` with this turn's commit (J6)."""
        if self.timers is None:
            self.timers = []
        self.timers.append(timer)

    def cancel_timer(self, timer_id: str) -> None:
        """Remove timer `timer_id` with this turn's commit."""
        if self.cancels is None:
            self.cancels = []
        self.cancels.append(timer_id)

    def child_id(self) -> str:
        """The id of the next message or timer this turn makes, derived from its cause and
        position so that a re-run of the turn makes the same ones (R2)."""
        self.positions += 1
        return child_message_id(self.envelope.id, self.positions)  # type: ignore[arg-type]  # journaled

    def step_position(self) -> int:
        """The position (1, 2, ...) of the next step called in this turn, of any name (R2)."""
        self.steps_made += 1
        return self.steps_made

    def step_key(self, name: str) -> str:
        """The key of the next step called `name`: ``name``, then ``name#2``... (J4)."""
        if self.step_calls is None:
            self.step_calls = {}
        calls = self.step_calls[name] = self.step_calls.get(name, 0) + 1
        return name if calls == 1 else f"{name}#{calls}"

    @property
    def conversation(self) -> str | None:
        """The conversation of the message being handled, which what it sends joins (J7)."""
        envelope = self.envelope
        return envelope.conversation or envelope.id

    @property
    def sender(self) -> str:
        """The name of the actor handling the message."""
        return self.cell.name

    @property
    def cause(self) -> str | None:
        """The id of the message being handled: the cause of what it sends (J7)."""
        return self.envelope.id

    def send(self, target: Target, message: Message, message_id: str | None = None) -> None:
        """Hold `message` for `target` until this turn commits."""
        if not isinstance(target, JournaledCell):
            assert isinstance(target, ActorCell)
            if message_id is not None:
                raise ActorflowError(
                    f"{target.name} is not durable: a message id means nothing without a journal"
                )
            if self.local is None:
                self.local = []
            self.local.append((target, Envelope(message)))  # made now: in the sending span
            return
        conversation = self.conversation
        derived = self.child_id()  # counted even when the sender names the id: positions stay
        envelope = Envelope(message, id=message_id or derived, conversation=conversation)
        record = record_for(
            message,
            target.name,
            envelope.id,  # type: ignore[arg-type]  # just set
            self.cell.name,
            conversation,
            self.envelope.id,
            envelope.trace,
        )
        if self.records is None or self.deliveries is None:
            self.records, self.deliveries = [], []
        self.records.append(record)
        self.deliveries.append(target.committed_delivery(envelope))

    def deliver_local(self) -> None:
        """After the commit: hand the messages for in-memory actors over."""
        for target, envelope in self.local or ():
            target.deliver(envelope)
