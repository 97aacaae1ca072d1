"""Steps (J4): outside side effects run once per message and recorded in the journal.

``await ctx.step(name, fn, *args)`` calls `fn` and commits its result at once, in its own
commit; a re-run of the same message (after a crash or a failed attempt) gets the recorded
result back instead of calling `fn` again. The result goes through msgpack and back on the
first run too, so a handler sees the same value whether the step ran or was replayed.

Steps are keyed by name within a message: the second call of one name is ``name#2``, and so on,
so a handler that calls its steps in the same order on every run replays them all.

A step's function that must not be called twice (a payment, a tool that is neither read-only
nor idempotent) calls `mark_started` right before its outside call goes out: a marker (an empty
result) commits first, and a re-run that finds the marker without a result raises
`StepOutcomeUnknown` instead of calling again (T2).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import typing
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, Final

import msgspec
import tenacity

from .._cell import ActorCell
from .._crashpoints import crash_point
from .._errors import ActorflowError, DecodeError, EncodeError, StepOutcomeUnknown
from .._llm import LLMCall
from .._tracing import llm_span, step_span
from ..journal import StepRecord
from ._cell import DurableCell
from ._records import args_digest
from ._workers import run_in_worker

__all__ = [
    "call_step_function",
    "current_step",
    "mark_started",
    "nonblocking",
    "return_type",
    "run_step",
]

F = typing.TypeVar("F", bound=Callable[..., Any])

_encode = msgspec.msgpack.Encoder().encode

_STARTED: Final = b""  # the started marker: no msgpack value encodes to nothing

_NONBLOCKING: Final = "__actorflow_nonblocking__"
"""The attribute `nonblocking` sets on the function it returns."""


class _Running:
    """The step whose function runs in this task (a context variable, so concurrent steps of
    one handler each see their own)."""

    __slots__ = ("cell", "key", "step")

    def __init__(self, cell: ActorCell, key: str, step: StepRecord | None) -> None:
        self.cell = cell
        self.key = key
        self.step = step
        """The record this step's result goes into; None in an in-memory actor."""


_running: ContextVar[_Running | None] = ContextVar("actorflow_step", default=None)


def current_step() -> str | None:
    """The key of the step whose function is running in this task (``name``, ``name#2``...),
    or None outside a step's function."""
    running = _running.get()
    return None if running is None else running.key


async def mark_started() -> None:
    """Commit that the running step's outside call is about to go out (T2); waits for it.

    From then on, a re-run of the message that finds no result for this step raises
    `StepOutcomeUnknown` instead of calling the step's function again. In an in-memory actor
    (nothing is recorded) it does nothing.
    """
    running = _running.get()
    if running is None:
        raise ActorflowError("mark_step_started() is called from inside a step's function")
    cell, step = running.cell, running.step
    if step is None or not isinstance(cell, DurableCell):
        return
    marker = StepRecord(
        step.message_id, step.step, _STARTED, args=step.args, position=step.position
    )
    await cell.writer.step(marker)
    crash_point("step.after_start")


async def run_step(
    cell: ActorCell,
    name: str,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    retry: tenacity.AsyncRetrying | None,
    llm: LLMCall[Any] | None = None,
) -> Any:
    """Run (or replay) one step of the message `cell` is handling."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"a step's name must be a non-empty str, not {name!r}")
    if not isinstance(cell, DurableCell):
        token = _running.set(_Running(cell, name, None))  # in memory: nothing to record
        try:
            return await _call(fn, args, kwargs, retry, llm, tracer=cell.runtime.tracer)
        finally:
            _running.reset(token)
    turn = cell.turn
    envelope = cell.current
    if turn is None or turn.closed or envelope is None:
        raise ActorflowError(
            f"step {name!r} of {cell.name}: steps run inside a message handler, while it runs"
        )
    key = turn.step_key(name)
    position = turn.step_position()
    returns = return_type(fn)
    message_id = envelope.id
    assert message_id is not None
    if turn.recorded is None:
        # Only a message tried before can have recorded steps: the first try reads nothing.
        turn.recorded = await cell.keeper.backend.steps(message_id) if envelope.attempts else {}
    with step_span(cell.runtime.tracer, cell.name, key) as replayed:
        recorded = turn.recorded.get(key)
        if recorded == _STARTED:
            raise StepOutcomeUnknown(
                f"step {key!r} of {cell.name}: its outside call started in an earlier attempt at"
                f" message {message_id} and no result was recorded (the process died or the"
                " call was lost), so it is not called again; find out what happened outside,"
                " then re-queue the message or not",
                actor=cell.name,
                step=key,
            )
        replayed(recorded is not None)
        if recorded is not None:
            return _decode(recorded, returns, cell, key)
        step = StepRecord(message_id, key, b"", args=args_digest(args, kwargs), position=position)
        return await _record(cell, turn.recorded, step, returns, fn, args, kwargs, retry, llm)


async def _record(
    cell: DurableCell,
    recorded: dict[str, bytes],
    step: StepRecord,
    returns: Any,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    retry: tenacity.AsyncRetrying | None,
    llm: LLMCall[Any] | None,
) -> Any:
    """Call the step's function, then commit its result before returning it."""
    key = step.step
    token = _running.set(_Running(cell, key, step))
    try:
        result = await _call(fn, args, kwargs, retry, llm, tracer=cell.runtime.tracer)
    finally:
        _running.reset(token)
    try:
        data = _encode(result)
    except (TypeError, ValueError, OverflowError) as exc:
        raise EncodeError(
            f"step {key!r} of {cell.name} returned {type(result).__name__}, which cannot be"
            f" recorded: {exc}; return msgspec-encodable data (a Struct, dict, list, str,"
            " number...)"
        ) from exc
    step.result = data
    await cell.writer.step(step)
    recorded[key] = data
    crash_point("step.after_record")
    return _decode(data, returns, cell, key)


async def _call(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    retry: tenacity.AsyncRetrying | None,
    llm: LLMCall[Any] | None,
    *,
    tracer: Any,
) -> Any:
    if llm is not None and tracer is not None:
        with llm_span(tracer, llm) as report:
            result = await call_step_function(fn, args, kwargs, retry)
            report(result)
            return result
    return await call_step_function(fn, args, kwargs, retry)


async def call_step_function(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    retry: tenacity.AsyncRetrying | None,
) -> Any:
    """Call a step's function as a step does: an async one awaited, a plain one in a worker
    thread, retried by `retry` (a ``tenacity.AsyncRetrying``) when given. Records nothing."""
    if retry is None:
        return await _once(fn, args, kwargs)
    async for attempt in retry.copy():
        with attempt:
            return await _once(fn, args, kwargs)
    raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover


def nonblocking(fn: F) -> F:
    """Declare that the plain function `fn` never blocks, so a step calls it on the event loop.

    A step runs a plain (not async) function in a worker thread, so that a blocking SDK or HTTP
    client does not stall the other actors; the hop there and back costs ~100 us a step. A
    function that only computes (parses, formats, looks something up in memory) does not need
    it: ``ctx.step("parse", nonblocking(parse), text)``, or ``@nonblocking`` on its definition,
    and the step calls it directly, in the handler's task. Whatever it does blocks every actor
    of the event loop while it runs. An async function already runs on the loop and is
    returned as it is.

    Returns a new function (the original is not changed) that calls `fn` with the same
    arguments and keeps its name, docstring and annotations.
    """
    if not callable(fn):
        raise TypeError(f"nonblocking() takes a function, not {type(fn).__name__}")
    if _is_async(fn) or _runs_on_loop(fn):
        return fn

    @functools.wraps(fn)
    def on_loop(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    setattr(on_loop, _NONBLOCKING, True)
    return typing.cast("F", on_loop)


def _runs_on_loop(fn: Callable[..., Any]) -> bool:
    """Whether `fn` (or the function a partial of it calls) was made by `nonblocking`."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return getattr(fn, _NONBLOCKING, False) is True


async def _once(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if _is_async(fn):
        return await fn(*args, **kwargs)
    if _runs_on_loop(fn):
        result = fn(*args, **kwargs)
    else:
        # A plain function (a blocking HTTP client, an SDK) runs in a worker thread, so the
        # other actors keep going meanwhile.
        result = await run_in_worker(functools.partial(fn, *args, **kwargs))
    if inspect.isawaitable(result):
        return await result
    return result


def _is_async(fn: Callable[..., Any]) -> bool:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 (an async __call__ is what we look for)
    )


_return_types: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
"""Each step function's return type, read once: `typing.get_type_hints` evaluates string
annotations anew on every call (~180 us for a method with four), once per step otherwise."""


def return_type(fn: Callable[..., Any]) -> Any:
    """What `fn` says it returns (awaited, for a coroutine function); Any if it does not say."""
    target: Any = fn
    while isinstance(target, functools.partial):
        target = target.func
    target = getattr(target, "__func__", target)  # a bound method: its function's hints
    try:
        return _return_types[target]
    except (KeyError, TypeError):  # not seen yet, or not weakly referable (then not cached)
        pass
    found = _read_return_type(target)
    with contextlib.suppress(TypeError):
        _return_types[target] = found
    return found


def _read_return_type(target: Any) -> Any:
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # unresolvable annotations: decode to plain data
        return Any
    found = hints.get("return", Any)
    origin = typing.get_origin(found)
    if origin is not None and origin in (Awaitable, Coroutine):
        found = typing.get_args(found)[-1]
    return Any if found is type(None) else found


@functools.lru_cache(maxsize=256)
def _decoder(returns: Any) -> msgspec.msgpack.Decoder[Any]:
    """One decoder per return type: ``msgspec.msgpack.decode(data, type=T)`` reads a generic
    type such as ``dict[str, object]`` anew on every call (py-spy: 5% of the loop's time in
    100 concurrent 10-step workflows)."""
    return msgspec.msgpack.Decoder(returns)


def _decode(data: bytes, returns: Any, cell: ActorCell, key: str) -> Any:
    try:
        try:
            decoder = _decoder(returns)
        except TypeError:  # an unhashable type (Annotated with a dict, say): not cached
            return msgspec.msgpack.decode(data, type=returns)
        return decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, TypeError) as exc:
        raise DecodeError(
            f"step {key!r} of {cell.name}: its recorded result does not decode as"
            f" {getattr(returns, '__name__', returns)}: {exc}"
        ) from exc
