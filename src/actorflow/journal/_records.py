"""What the journal stores, as plain typed records shared by every backend (J12)."""

from __future__ import annotations

from typing import Literal, TypeAlias

import msgspec

__all__ = [
    "ActorRecord",
    "Answer",
    "Batch",
    "Compacted",
    "Done",
    "Failed",
    "MessageRecord",
    "MessageStatus",
    "Reply",
    "StepRecord",
    "TimerRecord",
    "TurnRecord",
]

MessageStatus: TypeAlias = Literal["pending", "done", "dead", "cancelled"]
"""A message's place in its life. ``cancelled``: an operator cancelled it while it was
pending (``actorflow journal cancel``); it is never handled, and kept for the record until
compacted like a done message (J10)."""


class MessageRecord(msgspec.Struct, gc=False):
    """One message: who it is for, its encoded body and where it is in its life.

    `seq` is assigned by the journal on append and orders every message of a journal;
    `attempts` counts the attempts claimed so far (the one that succeeded included).
    """

    id: str
    recipient: str
    type: str
    body: bytes
    sender: str | None = None
    conversation: str | None = None
    cause: str | None = None
    created_at: float = 0.0
    seq: int = 0
    attempts: int = 0
    status: MessageStatus = "pending"
    error: str | None = None
    traceback: str | None = None
    done_at: float | None = None
    trace: str | None = None
    """The W3C ``traceparent`` of the span that sent it (O1), or None."""
    cancelled_at: float | None = None
    """When it was cancelled (Unix time), or None. Kept when a handler that was already running
    at the cancel finishes: it is then ``done`` with the cancel that came too late recorded."""
    cancelled_by: str | None = None
    """Who cancelled it and from where (``"alice via cli"``), or None."""
    corrupt: str | None = None
    """Set when the stored row could not be read: what was wrong. Its other fields are the
    ones that could be read (defaults otherwise); the runtime makes it a dead letter."""


class ActorRecord(msgspec.Struct, gc=False):
    """One durable actor: its registered class, constructor arguments and last state."""

    name: str
    kind: str
    args: bytes
    options: bytes = b""
    state: bytes | None = None
    supervisor: str | None = None
    handled: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0


class Reply(msgspec.Struct, frozen=True, gc=False):
    """A handler's reply to an ask from another node (C4), as its turn commits it (J3).

    `type` is the tag of the reply's type (a tagged Struct's tag, else ``module.qualname``),
    `body` its msgpack encoding; `error` says why a reply that msgpack cannot encode has no
    body."""

    type: str
    body: bytes | None
    error: str | None = None


class Answer(msgspec.Struct, frozen=True, gc=False):
    """What an asking node learns of its ask to another node's actor (C4): the reply, or the
    message's end without one (`status` ``dead``, with its `error` and `traceback`, or
    ``cancelled``, by `cancelled_by`)."""

    message_id: str
    status: MessageStatus
    reply: Reply | None = None
    error: str | None = None
    traceback: str | None = None
    cancelled_by: str | None = None


class Done(msgspec.Struct, gc=False):
    """A handled message (J3): its done-mark, its actor's new state (None: unchanged)."""

    message_id: str
    actor: str
    state: bytes | None
    at: float
    seq: int | None = None
    """The message's sequence number when known: found faster than by id."""
    before: bytes | None = None
    """The actor's state before the handler ran (R2), kept with the message for replays;
    None for an actor without a state, or when the system does not record turns."""
    reply: bytes | None = None
    """The handler's reply to an ``ask``, msgpack-encoded (R1); None when not asked."""
    recorded: bool = True
    """Whether the turn is kept for replays (R2): `before`, `state` and `reply` stored with
    the message. False when the system was told not to record turns."""
    answer: Reply | None = None
    """The reply to an ask from another node (C4), committed with the done-mark for its asker
    to read (J3: it exists iff the turn committed); None for any other message. Only a
    journal of several nodes (PostgreSQL) stores it."""


class Failed(msgspec.Struct, gc=False):
    """A failed attempt: the attempt count so far; `dead` makes it a dead letter (S7)."""

    message_id: str
    attempts: int
    error: str
    traceback: str | None
    dead: bool


class StepRecord(msgspec.Struct, gc=False):
    """The recorded result of one step of a handled message (J4).

    `step` is the step's name, with ``#2``, ``#3``... appended for its second and later calls
    within one message. An empty `result` is a *started marker* (T2): the step's outside call
    was about to go out and its result is not recorded yet. A backend keeps the first result
    recorded for a step; a result replaces a started marker, and nothing replaces a result.
    """

    message_id: str
    step: str
    result: bytes
    created_at: float = 0.0
    args: bytes | None = None
    """A digest of the step's arguments (R1): BLAKE2b-128 of their msgpack encoding, so a
    replay can tell that a step was called with other arguments; None when they cannot be
    encoded."""
    position: int = 0
    """The step's place among its message's steps, of any name: 1, 2, ... (R1); 0 if
    unknown (recorded before schema 3)."""


class TurnRecord(msgspec.Struct, gc=False):
    """What a replay needs of one handled message (R2): the actor's state before and after
    its handler, its reply, and its steps in the order they were called."""

    message_id: str
    actor: str
    before: bytes | None
    after: bytes | None
    reply: bytes | None = None
    steps: list[StepRecord] = []
    recorded: bool = True
    """False when the turn was handled without recording (`before` and `after` unknown)."""


class TimerRecord(msgspec.Struct, gc=False):
    """A durable timer (J6): `message` is appended, under the timer's id, at `due_at`."""

    message: MessageRecord
    due_at: float

    @property
    def id(self) -> str:
        """The timer's id, which is also the id of the message it sends."""
        return self.message.id


class Compacted(msgspec.Struct, frozen=True, gc=False):
    """What a compaction removed (J10)."""

    messages: int
    steps: int
    before: float


class Batch(msgspec.Struct, gc=False):
    """Everything one group commit writes, in one transaction (J2, J3, J4, J6).

    Applied in this order: actor registrations, appends (idempotent by id), claims (attempt
    counts up by one), done-marks with states, failures, re-queues, step results (a step
    recorded twice keeps its first result), new timers, then timers removed (cancelled, or
    fired: their message is among the appends).
    """

    actors: list[ActorRecord] = []
    appends: list[MessageRecord] = []
    claims: list[str] = []
    done: list[Done] = []
    failed: list[Failed] = []
    requeues: list[str] = []
    steps: list[StepRecord] = []
    timers: list[TimerRecord] = []
    cancels: list[str] = []

    def __len__(self) -> int:
        return (
            len(self.actors)
            + len(self.appends)
            + len(self.claims)
            + len(self.done)
            + len(self.failed)
            + len(self.requeues)
            + len(self.steps)
            + len(self.timers)
            + len(self.cancels)
        )
