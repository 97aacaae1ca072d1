"""`tool`: the mark on a handler that ``actorflow mcp serve`` serves as an MCP tool (T3).

The mark says only what is served (a name, which actor, how long a call may take); the rest
comes from the handler itself: its docstring is the description, its parameter's message type
the input, its return annotation the output. Nothing of the MCP SDK is imported here, so an
application can mark handlers without the ``mcp`` extra installed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final, TypeVar, overload

import msgspec

from .. import DefinitionError

__all__ = ["IDEMPOTENCY_KEY", "ToolMark", "mark_of", "marked_handlers", "tool"]

IDEMPOTENCY_KEY: Final = "actorflow/idempotency-key"
"""The `_meta` key of a ``tools/call`` request under which a client names its call: a retry
with the same key (and tool) is the same call, answered from the journal."""

F = TypeVar("F", bound=Callable[..., Any])

# MCP tool names: letters, digits, "_", "-" and ".", 1 to 64 of them (the spec's SEP-986).
_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")

DEFAULT_TIMEOUT: Final = 300.0
"""How long a call waits for the handler's reply by default, in seconds (an LLM call is slow)."""


class ToolMark(msgspec.Struct, frozen=True):
    """What `tool` recorded on a handler."""

    name: str
    """The tool's name (the handler's name without ``on_`` unless given)."""
    actor: str | None
    """The name of the actor that serves it, or None: the one durable actor of its class."""
    timeout: float
    """How long a call waits for the reply, in seconds."""


# Every marked handler, in the order they were defined: what `serve` looks at.
_marked: list[Callable[..., Any]] = []


@overload
def tool(handler: F, /) -> F: ...


@overload
def tool(
    *, name: str | None = None, actor: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Callable[[F], F]: ...


def tool(
    handler: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    actor: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Any:
    """Mark a handler (an ``on_*`` method of an `Actor`) to be served as an MCP tool.

    Use it bare (``@tool``) or with options (``@tool(name="plan", actor="planner")``). The tool
    is named `name` (default: the handler's name without ``on_``) and served by the live actor
    called `actor`; without `actor`, by the one durable actor of the handler's class that the
    journal holds. A call waits up to `timeout` seconds for the reply. The handler itself is
    returned unchanged: it handles messages as before. Raises `DefinitionError` for a name MCP
    does not allow or a timeout that is not a positive number of seconds.
    """

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn_name = getattr(fn, "__name__", "")
        if not callable(fn) or not fn_name.startswith("on_"):
            raise DefinitionError(
                f"@tool marks a message handler (an on_* method of an Actor), not {fn!r}"
            )
        tool_name = name if name is not None else fn_name.removeprefix("on_")
        if not _NAME.fullmatch(tool_name):
            raise DefinitionError(
                f"tool name {tool_name!r} of {fn.__qualname__} is not allowed by MCP: use 1 to"
                " 64 letters, digits, '_', '-' or '.'"
            )
        if not 0 < timeout < float("inf"):  # also False for NaN
            raise DefinitionError(
                f"tool {tool_name!r}: timeout must be a finite number of seconds > 0, not"
                f" {timeout!r}"
            )
        if actor is not None and not actor:
            raise DefinitionError(f"tool {tool_name!r}: actor cannot be empty")
        fn.__actorflow_tool__ = ToolMark(tool_name, actor, timeout)  # type: ignore[attr-defined]
        _marked.append(fn)
        return fn

    if handler is not None:
        return mark(handler)
    return mark


def mark_of(handler: Callable[..., Any]) -> ToolMark | None:
    """The mark `tool` left on `handler`, or None."""
    found = getattr(handler, "__actorflow_tool__", None)
    return found if isinstance(found, ToolMark) else None


def marked_handlers() -> list[Callable[..., Any]]:
    """Every handler marked with `tool` so far, in definition order."""
    return list(_marked)
