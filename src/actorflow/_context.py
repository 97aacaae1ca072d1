"""`ActorContext`: what an actor knows about itself and its system while it runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast, final, overload

import tenacity

from ._cell import ActorCell
from ._llm import LLMCall
from ._message import Message
from ._ref import ActorRef, cell_of
from ._services import Services
from ._system import ActorSystem
from ._timers import When
from .durable import current_step, mark_started, run_step

T = TypeVar("T")

__all__ = ["ActorContext"]


@final
class ActorContext:
    """The actor's view of the runtime, available as ``self.ctx`` from the constructor on."""

    __slots__ = ("_cell",)

    def __init__(self, cell: ActorCell) -> None:
        self._cell = cell

    @property
    def ref(self) -> ActorRef[Any]:
        """This actor's own reference, to hand to others."""
        return self._cell.ref

    @property
    def name(self) -> str:
        """This actor's name."""
        return self._cell.name

    @property
    def system(self) -> ActorSystem:
        """The system the actor runs in (to spawn or look up other actors)."""
        return cast(ActorSystem, self._cell.runtime.system)

    @property
    def _services(self) -> Services:
        return cast(Services, self._cell.runtime)

    @property
    def attempt(self) -> int:
        """Which attempt at the current message this is: 1, then 2 after a failure (S7)."""
        current = self._cell.current
        return 1 if current is None else current.attempts + 1

    @property
    def message_id(self) -> str | None:
        """The journal id of the message being handled (durable actors), else None.

        Stable across re-runs of the same message after a crash or a failed attempt: pass it
        to outside services as an idempotency key (J4).
        """
        current = self._cell.current
        return None if current is None else current.id

    @property
    def conversation(self) -> str | None:
        """The conversation of the message being handled (durable actors), else None (J7).

        Messages sent while handling it join it; a message from outside starts one, named by
        its own id.
        """
        current = self._cell.current
        if current is None:
            return None
        return current.conversation or current.id

    @overload
    async def step(
        self,
        name: str,
        fn: Callable[..., Awaitable[T]],
        /,
        *args: Any,
        retry: tenacity.AsyncRetrying | None = None,
        llm: LLMCall[T] | None = None,
        **kwargs: Any,
    ) -> T: ...

    @overload
    async def step(
        self,
        name: str,
        fn: Callable[..., T],
        /,
        *args: Any,
        retry: tenacity.AsyncRetrying | None = None,
        llm: LLMCall[T] | None = None,
        **kwargs: Any,
    ) -> T: ...

    async def step(
        self,
        name: str,
        fn: Callable[..., Any],
        /,
        *args: Any,
        retry: tenacity.AsyncRetrying | None = None,
        llm: LLMCall[Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run an outside side effect once for this message and record its result (J4).

        Calls ``fn(*args, **kwargs)`` (``await``-ed if async; a plain function runs in a worker
        thread) and commits its result to the journal as soon as it returns. If this message
        is handled again (after a crash or a failed attempt), the recorded result comes back
        and `fn` is not called. The result must be msgpack-encodable; it is decoded as `fn`'s
        return annotation says, the same on the first run and on a replay. `retry` (a
        ``tenacity.AsyncRetrying``) retries `fn` itself before the step counts as failed.

        Steps are told apart by name and, for a name used twice, by order; keep their order
        the same from one run to the next. In an in-memory actor a step is a plain call.
        For services that take one, pass ``ctx.message_id`` as an idempotency key: outside
        effects without steps are at-least-once.

        `llm` declares the step a model call (an `LLMCall`: model, provider, how to read token
        usage from the result), so that its call is a ``chat {model}`` span with GenAI
        attributes when the system traces (O3).

        A function whose outside call must not be repeated calls `mark_step_started` just
        before making it; a re-run that finds the call started but not recorded then raises
        `StepOutcomeUnknown` instead of calling again (T2).
        """
        return await run_step(self._cell, name, fn, args, kwargs, retry, llm)

    @property
    def current_step(self) -> str | None:
        """The key of the step whose function runs in this task (``name``, then ``name#2``...
        for a name used again in one message), or None outside a step's function.

        With `message_id`, it names one outside call across re-runs: an idempotency key.
        """
        return current_step()

    async def mark_step_started(self) -> None:
        """From inside a step's function: commit that its outside call is about to go out (T2).

        Waits for the commit. Afterwards, if the message is handled again (after a crash or a
        failed attempt) before this step's result is recorded, the step raises
        `StepOutcomeUnknown` instead of calling its function again: for calls that must not
        happen twice. In an in-memory actor it does nothing; outside a step's function it
        raises `ActorflowError`.
        """
        await mark_started()

    async def schedule(
        self, when: When, message: Message, *, to: ActorRef[Any] | None = None
    ) -> str:
        """Send `message` to `to` (this actor by default) later; returns the timer's id (J6).

        `when` is seconds or a `timedelta` from now, or a `datetime`. For a durable recipient
        the timer is stored in the journal, with this handler's commit when called from one:
        it fires once, also after a restart, late rather than never.
        """
        target = self._cell if to is None else cell_of(to)
        assert isinstance(target, ActorCell)
        return await self._services.timers.schedule(when, message, target, self._cell.name)

    async def cancel_timer(self, timer_id: str) -> None:
        """Cancel a timer that has not fired (with this handler's commit, when in one)."""
        await self._services.timers.cancel(timer_id)

    @property
    def restarts(self) -> int:
        """How many times this actor has been restarted so far."""
        return self._cell.restarts

    def watch(self, ref: ActorRef[Any]) -> None:
        """Receive `Terminated` when `ref`'s actor stops for good (at once if it already has).

        The actor needs a handler for `Terminated`; without one this raises `DefinitionError`.
        """
        cell_of(ref).watch(self._cell)

    def unwatch(self, ref: ActorRef[Any]) -> None:
        """Stop watching `ref` (a `Terminated` already queued is still delivered)."""
        cell_of(ref).unwatch(self._cell)

    def stop(self) -> None:
        """Stop this actor after the current message: a normal exit.

        Its supervisor restarts a permanent actor even after a normal exit (OTP's meaning of
        permanent); a transient or temporary one stays stopped.
        """
        self._cell.exit()

    def __repr__(self) -> str:
        return f"<ActorContext {self._cell.name}>"
