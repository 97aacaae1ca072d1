"""The desk of a served tool: where a call becomes a durable message and its reply a record.

Each served tool has a desk, a durable actor of actorflow's own (``actorflow.mcp/<tool>``). A
call is a `ToolCall` told to the desk under the call's id (J2: committed before anything else
happens; a second tell with that id is a no-op), and the desk's handler asks the tool's actor
inside a step (J4), so the reply, or the error, is recorded in the journal under the call's id
once. A retried call reads that record instead of asking again. The server of this process
waits for the reply through `Calls`, which the desk settles as soon as the step is recorded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Final

import anyio
import msgspec

from .. import Actor, ActorSystem, Message

__all__ = ["DESK_PREFIX", "REPLY_STEP", "Calls", "Outcome", "ToolCall", "ToolDesk", "taking_calls"]

DESK_PREFIX: Final = "actorflow.mcp/"
"""Desks are named by their tool after this prefix."""

REPLY_STEP: Final = "reply"
"""The step of a desk's turn that records a call's outcome."""


class ToolCall(Message, tag="actorflow.mcp.ToolCall"):
    """One call of a served tool: its arguments as the JSON object the client sent."""

    tool: str
    arguments: bytes


class Outcome(msgspec.Struct, frozen=True):
    """How a call ended, as recorded (the desk's step result): the reply encoded as JSON, or
    the error's text."""

    reply: bytes | None = None
    error: str | None = None


class Waiter:
    """Where the server waits for one call's outcome."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.outcome: Outcome | None = None
        self.users = 0


class Calls:
    """The calls this process's server waits for, and how a desk handles one (`handle`)."""

    def __init__(self, handle: Callable[[ToolCall], Awaitable[Outcome]]) -> None:
        self.handle = handle
        self._waiting: dict[str, Waiter] = {}

    @contextlib.contextmanager
    def waiting(self, call_id: str) -> Iterator[Waiter]:
        """Wait for the call `call_id` (shared by a retry that arrives while it runs)."""
        waiter = self._waiting.get(call_id)
        if waiter is None:
            waiter = self._waiting[call_id] = Waiter()
        waiter.users += 1
        try:
            yield waiter
        finally:
            waiter.users -= 1
            if not waiter.users and self._waiting.get(call_id) is waiter:
                del self._waiting[call_id]

    def settle(self, call_id: str, outcome: Outcome) -> None:
        """The call's outcome is recorded: wake whoever waits for it (nobody, after a restart)."""
        waiter = self._waiting.get(call_id)
        if waiter is not None:
            waiter.outcome = outcome
            waiter.done.set()


# The server taking calls in this process, by its system: a desk recovered from the journal
# (J5) may start before the server is up, and waits for it.
_taking: dict[int, Calls] = {}
_opened: dict[int, anyio.Event] = {}


@contextlib.contextmanager
def taking_calls(system: ActorSystem, calls: Calls) -> Iterator[None]:
    """Let the desks of `system` hand their calls to `calls` while this is open."""
    key = id(system)
    _taking[key] = calls
    _opened.setdefault(key, anyio.Event()).set()
    try:
        yield
    finally:
        del _taking[key]
        _opened.pop(key, None)


async def _calls_of(system: ActorSystem) -> Calls:
    key = id(system)
    while (calls := _taking.get(key)) is None:
        await _opened.setdefault(key, anyio.Event()).wait()
    return calls


class ToolDesk(Actor[None], kind="actorflow.mcp.ToolDesk"):
    """The durable actor through which the calls of one served tool go (one at a time, A1)."""

    def __init__(self, tool: str) -> None:
        self.tool = tool

    async def on_call(self, call: ToolCall) -> None:
        calls = await _calls_of(self.ctx.system)
        outcome = await self.ctx.step(REPLY_STEP, calls.handle, call)
        call_id = self.ctx.message_id
        if call_id is not None:
            calls.settle(call_id, outcome)
