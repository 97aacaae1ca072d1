"""What a tool call returns and what a server's listing says of a tool, as plain data."""

# No `from __future__ import annotations`: msgspec resolves these fields at decode time through
# the module the classes report, which is the public `actorflow.mcp`.

from typing import Any

import msgspec

__all__ = ["ToolInfo", "ToolResult"]


class ToolResult(msgspec.Struct, frozen=True):
    """A tool's result, as recorded in the journal (JSON data) and returned to the handler.

    `content` holds the MCP content blocks as JSON objects (``{"type": "text", "text": ...}``),
    `structured` the structured content, if the tool gave any. A result with `is_error` is raised
    as `ToolFailed` rather than returned; `error_code` is set when the server answered with a
    JSON-RPC error instead of a result.
    """

    content: list[dict[str, Any]]
    structured: Any = None
    is_error: bool = False
    error_code: int | None = None

    @property
    def text(self) -> str:
        """The text of the result's text blocks, joined by newlines."""
        return "\n".join(
            str(block.get("text", "")) for block in self.content if block.get("type") == "text"
        )


class ToolInfo(msgspec.Struct, frozen=True):
    """One tool as its server lists it: what a model needs to call it, and its annotations.

    `read_only` and `idempotent` are the tool's ``readOnlyHint`` and ``idempotentHint``
    (False when not given): they decide whether a call may be made again (T2).
    """

    name: str
    input_schema: dict[str, Any]
    description: str | None = None
    output_schema: dict[str, Any] | None = None
    read_only: bool = False
    idempotent: bool = False
    destructive: bool = True
