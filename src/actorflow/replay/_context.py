"""The context a replayed handler sees as ``self.ctx``: steps from the record, sends into the
replayed turn, timers on the replay's virtual clock, nothing reaching the outside (R1, R2)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any, Protocol, final

import msgspec

from .._errors import ReplayError, StepOutcomeUnknown
from .._message import Message
from ._runtime import args_digest, call_step_function, return_type

__all__ = ["NotRecorded", "ReplayContext", "ReplayRef", "ReplaySystem", "Sent", "StepCall"]

_encode = msgspec.msgpack.Encoder().encode


class NotRecorded(ReplayError):
    """Raised in a replayed handler that calls a step the record lacks, which its mode does not
    call for real: its turn ends there, reported as a divergence, and the replay goes on."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


class Sent(msgspec.Struct, gc=False):
    """A message (or timer) the replayed handler made, with the id the runtime would give it."""

    id: str
    recipient: str
    message: Message
    body: bytes
    due_at: float | None = None  # a timer's; None for a message sent now


class StepCall(msgspec.Struct, gc=False):
    """A step the replayed handler called, and where its result came from."""

    key: str
    position: int
    args: bytes | None
    result: bytes
    live: bool


class ReplayTurn(Protocol):
    """What the context needs of the turn being replayed (the engine's turn provides it)."""

    message_id: str
    steps: list[StepCall]
    cancels: list[str]

    def step_key(self, name: str) -> tuple[str, int]: ...

    def recorded_step(self, key: str) -> bytes | None: ...

    def send(self, recipient: str, message: Message, message_id: str | None) -> None: ...

    def timer(self, recipient: str, message: Message, due: float) -> str: ...


class Replaying(Protocol):
    """What the context needs of the replay driving it (`Engine`), so this module does not
    import the engine that imports it (L1: no import circle)."""

    @property
    def conversation(self) -> str: ...

    @property
    def mode(self) -> str: ...

    @property
    def now(self) -> float: ...

    def current_turn(self) -> ReplayTurn: ...

    def is_live(self, name: str, key: str) -> bool: ...


_STARTED = b""  # a step's started marker (T2): no msgpack value encodes to nothing


@final
class ReplayRef:
    """A reference to an actor of the replayed conversation: `tell` adds to the turn."""

    __slots__ = ("_engine", "name")

    def __init__(self, engine: Replaying, name: str) -> None:
        self._engine = engine
        self.name = name

    async def tell(self, message: Message, *, id: str | None = None) -> None:
        self._engine.current_turn().send(self.name, message, id)

    def tell_nowait(self, message: Message) -> None:
        self._engine.current_turn().send(self.name, message, None)

    async def ask(self, message: Message, **_: Any) -> Any:
        raise ReplayError(
            f"ask to {self.name} inside a handler: an ask is not part of its turn (it goes out"
            " at once), so a replay cannot give its answer; make it a step, or tell and handle"
            " the answer as a message"
        )

    def __repr__(self) -> str:
        return f"<ReplayRef {self.name}>"


@final
class ReplaySystem:
    """The system a replayed handler sees: it can look actors up, nothing else."""

    __slots__ = ("_engine",)

    def __init__(self, engine: Replaying) -> None:
        self._engine = engine

    def lookup(self, name: str) -> ReplayRef:
        return ReplayRef(self._engine, name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # copy, pickle, hasattr... look for these
        raise ReplayError(
            f"system.{name} inside a replayed handler: a replay only looks actors up and sends"
            " to them"
        )


@final
class ReplayContext:
    """``self.ctx`` of a replayed actor: the same names as `ActorContext` that a handler uses."""

    __slots__ = ("_engine", "_name")

    def __init__(self, engine: Replaying, name: str) -> None:
        self._engine = engine
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def ref(self) -> ReplayRef:
        return ReplayRef(self._engine, self._name)

    @property
    def system(self) -> ReplaySystem:
        return ReplaySystem(self._engine)

    @property
    def attempt(self) -> int:
        return 1

    @property
    def restarts(self) -> int:
        return 0

    @property
    def message_id(self) -> str:
        return self._engine.current_turn().message_id

    @property
    def conversation(self) -> str:
        return self._engine.conversation

    async def step(
        self,
        name: str,
        fn: Callable[..., Any],
        /,
        *args: Any,
        retry: Any = None,
        llm: Any = None,
        **kwargs: Any,
    ) -> Any:
        """The step's recorded result; called for real only for a live step (R1).

        `llm` is taken as `ActorContext.step` takes it (it names a model call for its span) and
        is not an argument of `fn`: a replay makes no spans. A step recorded only as started
        (its outside call began and no result was recorded, T2) raises `StepOutcomeUnknown`, as
        a re-run in the runtime does, unless the step is live.
        """
        del llm  # spans only: nothing a replay compares
        turn = self._engine.current_turn()
        key, position = turn.step_key(name)
        digest = args_digest(args, kwargs)
        returns = return_type(fn)
        recorded = turn.recorded_step(key)
        live = self._engine.is_live(name, key)
        if recorded == _STARTED and not live:
            turn.steps.append(StepCall(key, position, digest, recorded, live=False))
            raise StepOutcomeUnknown(
                f"step {key!r} of {self._name}: recorded as started with no result (its outside"
                " call's outcome was unknown when the conversation ran), so a replay does not"
                " call it either",
                actor=self._name,
                step=key,
            )
        if recorded is not None and not live:
            turn.steps.append(StepCall(key, position, digest, recorded, live=False))
            return _decode(recorded, returns, key)
        if not live:
            raise NotRecorded(
                f"step {key!r} of {self._name} is not in the record and replay mode"
                f" {self._engine.mode!r} does not call it (use live={{{name!r}}} to call it)",
                key,
            )
        result = await call_step_function(fn, args, kwargs, retry)
        try:
            data = _encode(result)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ReplayError(
                f"step {key!r} of {self._name} returned unencodable data: {exc}"
            ) from exc
        turn.steps.append(StepCall(key, position, digest, data, live=True))
        return _decode(data, returns, key)

    @property
    def current_step(self) -> str | None:
        """None: a replay runs a live step's function without the runtime's step bookkeeping."""
        return None

    async def mark_step_started(self) -> None:
        """Nothing to mark: a replay records nothing (R1)."""

    async def schedule(self, when: Any, message: Message, *, to: ReplayRef | None = None) -> str:
        """A timer on the replay's virtual clock: made, compared, delivered when due."""
        target = self._name if to is None else to.name
        if isinstance(when, dt.datetime):
            due = when.timestamp()
        else:
            seconds = when.total_seconds() if isinstance(when, dt.timedelta) else float(when)
            if not seconds >= 0 or math.isinf(seconds):
                raise ValueError(f"a timer's delay must be a finite number >= 0, not {when!r}")
            due = self._engine.now + seconds
        return self._engine.current_turn().timer(target, message, due)

    async def cancel_timer(self, timer_id: str) -> None:
        self._engine.current_turn().cancels.append(timer_id)

    def stop(self) -> None:
        """Stopping after the message changes nothing a replay compares."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise ReplayError(f"ctx.{name} is not available in a replay")

    def __repr__(self) -> str:
        return f"<ReplayContext {self._name}>"


def _decode(data: bytes, returns: Any, key: str) -> Any:
    try:
        return msgspec.msgpack.decode(data, type=returns)
    except (msgspec.DecodeError, msgspec.ValidationError, TypeError) as exc:
        raise ReplayError(f"step {key!r}: its recorded result does not decode: {exc}") from exc
