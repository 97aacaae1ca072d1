"""The errors of MCP tool calls, in actorflow's one hierarchy (each names its server and tool)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from actorflow import ActorflowError, StepOutcomeUnknown

if TYPE_CHECKING:
    from ._results import ToolResult

__all__ = [
    "MCPError",
    "ServerUnavailable",
    "ToolArgumentsInvalid",
    "ToolFailed",
    "ToolOutcomeUnknown",
    "ToolResultTooLarge",
    "UnknownServer",
    "UnknownTool",
]


class MCPError(ActorflowError):
    """Raised by ``actorflow.mcp``; the root of its errors. `server` names the MCP server."""

    def __init__(self, message: str, *, server: str, tool: str | None = None) -> None:
        super().__init__(message)
        self.server = server
        self.tool = tool


class UnknownServer(MCPError, LookupError):
    """Raised when a handler names a server its `Servers` does not declare; nothing is called."""


class ServerUnavailable(MCPError):
    """Raised when an MCP server cannot be reached: its command does not start, its URL does not
    answer, or the connection broke during a call that could be retried and every retry failed.

    Nothing is recorded. The message fails (S7) and is tried again; mind the server.
    """


class UnknownTool(MCPError, LookupError):
    """Raised when the server does not list the tool called; nothing was sent."""


class ToolArgumentsInvalid(MCPError, ValueError):
    """Raised when a call's arguments do not match the tool's input schema; nothing was sent.

    The message says which argument and why, as JSON Schema validation found it.
    """


class ToolResultTooLarge(MCPError):
    """Raised when a tool's result is larger than its server's ``max_result_bytes``.

    The tool ran, but its result is not recorded (a journal row that size would be a problem of
    its own); for a tool that may not be repeated, a re-run of the message then raises
    `ToolOutcomeUnknown`. Raise the limit, or ask the tool for less.
    """


class ToolFailed(MCPError):
    """Raised when the server answered the call with an error: the tool's own error result
    (``isError``), or a JSON-RPC error response.

    The outcome is known, so it is recorded like any result: a re-run of the message replays
    this error rather than calling again. `result` is the `ToolResult` (its text is the tool's
    explanation, to show a model so it can correct itself); `code` is the JSON-RPC error code
    for an error response, None for an ``isError`` result. Never a transport failure.
    """

    def __init__(self, message: str, *, server: str, tool: str, result: ToolResult) -> None:
        super().__init__(message, server=server, tool=tool)
        self.result = result
        self.code = result.error_code


class ToolOutcomeUnknown(MCPError, StepOutcomeUnknown):
    """Raised when a call of a tool that may not be repeated went out and its outcome is
    unknown (T2): the process died while it was in flight, or the connection broke before the
    answer came.

    A tool may be repeated when it declares ``readOnlyHint`` or ``idempotentHint``, or when the
    server's ``repeatable`` policy says so; others are called at most once per message. The
    message fails with this error on each attempt without calling again, and ends as a dead
    letter saying so (``actorflow journal dead``): find out what happened on the server, then
    re-queue it or not.
    """

    def __init__(self, message: str, *, server: str, tool: str, actor: str, step: str) -> None:
        StepOutcomeUnknown.__init__(self, message, actor=actor, step=step)
        self.server = server
        self.tool = tool
