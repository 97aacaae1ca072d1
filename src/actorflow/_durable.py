"""What durable actors need beyond in-memory ones: message ids, records, turns, argument codecs.

A *turn* is one handled message of a durable actor. Messages the handler sends go into the
turn's outbox and leave only after the turn commits, with the new state and the done-mark, in
one transaction (J3).
"""

from __future__ import annotations

import contextvars
import inspect
import itertools
import os
import time
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, final

import msgspec

from ._envelope import Envelope
from ._errors import ActorflowError, DecodeError, EncodeError
from ._message import Message
from .journal import MessageRecord, TimerRecord

if TYPE_CHECKING:
    from ._actor import Actor
    from ._cell import ActorCell

__all__ = [
    "Turn",
    "args_types",
    "current_turn",
    "decode_args",
    "encode_args",
    "new_message_id",
    "record_for",
]

_encode = msgspec.msgpack.Encoder().encode

current_turn: contextvars.ContextVar[Turn | None] = contextvars.ContextVar(
    "actorflow_turn", default=None
)

open_turns = 0
"""How many durable handlers are running now: while none is, a send skips the context lookup
(the in-memory hot path stays as fast as without a journal)."""


# Ids are this process's random prefix (time first, so ids sort roughly by creation) and a
# counter: unique across processes, ~0.2 us each where os.urandom costs ~12 us a call here,
# and increasing, so the journal's id index grows at its end instead of at random places.
_prefix = f"{int(time.time()):08x}{os.urandom(5).hex()}"
_counter = itertools.count()


def new_message_id() -> str:
    """A fresh message id, unique across processes: 18 hex digits of prefix, 8 of counter."""
    return f"{_prefix}{next(_counter):08x}"


def record_for(
    message: Message,
    recipient: str,
    message_id: str,
    sender: str | None,
    conversation: str | None = None,
    cause: str | None = None,
    trace: str | None = None,
) -> MessageRecord:
    """The journal record of `message` for `recipient`.

    Without a `conversation` the message starts one, named by its own id (J7).
    """
    try:
        body = _encode(message)
    except (TypeError, ValueError, OverflowError) as exc:
        raise EncodeError(f"cannot encode {type(message).__name__} for {recipient}: {exc}") from exc
    return MessageRecord(
        id=message_id,
        recipient=recipient,
        type=message.__struct_config__.tag,  # type: ignore[arg-type]  # always a str (M1)
        body=body,
        sender=sender,
        conversation=conversation or message_id,
        cause=cause,
        created_at=time.time(),
        trace=trace,
    )


@final
class Turn:
    """One message being handled by a durable actor, collecting what it sends."""

    __slots__ = (
        "cancels",
        "cell",
        "closed",
        "deliveries",
        "envelope",
        "local",
        "recorded",
        "records",
        "step_calls",
        "timers",
    )

    def __init__(self, cell: ActorCell, envelope: Envelope) -> None:
        self.cell = cell
        self.envelope = envelope
        self.records: list[MessageRecord] = []
        self.deliveries: list[Callable[[int | None], None]] = []
        self.local: list[tuple[ActorCell, Envelope]] = []
        # Most turns set no timer and make no step: these are made on first use.
        self.timers: list[TimerRecord] | None = None
        self.cancels: list[str] | None = None
        self.step_calls: dict[str, int] | None = None
        self.recorded: dict[str, bytes] | None = None  # this message's steps, once read (J4)
        self.closed = False

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

    def send(self, target: ActorCell, message: Message, message_id: str | None = None) -> None:
        """Hold `message` for `target` until this turn commits."""
        if not target.durable:
            if message_id is not None:
                raise ActorflowError(
                    f"{target.name} is not durable: a message id means nothing without a journal"
                )
            self.local.append((target, Envelope(message)))  # made now: in the sending span
            return
        conversation = self.conversation
        envelope = Envelope(message, id=message_id or new_message_id(), conversation=conversation)
        record = record_for(
            message,
            target.name,
            envelope.id,  # type: ignore[arg-type]  # just set
            self.cell.name,
            conversation,
            self.envelope.id,
            envelope.trace,
        )
        self.records.append(record)
        self.deliveries.append(target.committed_delivery(envelope))

    def deliver_local(self) -> None:
        """After the commit: hand the messages for in-memory actors over."""
        for target, envelope in self.local:
            target.deliver_after_commit(envelope)


def args_types(cls: type[Actor[Any]]) -> tuple[Any, ...] | None:
    """The annotated types of `cls`'s positional constructor parameters (None: any number)."""
    init = cls.__init__
    if init is object.__init__:
        return ()
    params = list(inspect.signature(init).parameters.values())[1:]
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    try:
        hints = typing.get_type_hints(init)
    except NameError:
        hints = {}
    return tuple(
        hints.get(p.name, Any)
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )


def encode_args(name: str, args: tuple[Any, ...]) -> bytes:
    """Encode a durable actor's constructor arguments, with a clear error if they cannot be."""
    try:
        return _encode(args)
    except (TypeError, ValueError, OverflowError) as exc:
        raise EncodeError(
            f"durable actor {name}: its constructor arguments must be msgpack-encodable (they are"
            f" stored to re-create it after a restart): {exc}; pass names or ids instead, or"
            " spawn it with ephemeral=True"
        ) from exc


def decode_args(cls: type[Actor[Any]], name: str, data: bytes) -> tuple[Any, ...]:
    """Decode stored constructor arguments, typed by the constructor's annotations.

    As many as were stored: parameters left to their defaults at spawn stay that way.
    """
    try:
        raw = msgspec.msgpack.decode(data, type=list[Any])
        types = args_types(cls)
        if types is None:
            return tuple(raw)
        target: Any = tuple.__class_getitem__(types[: len(raw)] or ((),))
        return tuple(msgspec.convert(raw, target))
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise DecodeError(
            f"cannot decode the constructor arguments of actor {name}: {exc}"
        ) from exc
