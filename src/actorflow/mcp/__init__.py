"""MCP for actorflow: actors served as MCP tools (T3).

`tool` marks a handler to serve; ``actorflow mcp serve MODULE:FACTORY`` serves the marked
handlers of the application's live actors over stdio or streamable HTTP. Marking needs nothing
beyond actorflow; serving needs the ``mcp`` extra (``pip install 'actorflow[mcp]'``).
"""

from ._serve_tool import IDEMPOTENCY_KEY as IDEMPOTENCY_KEY
from ._serve_tool import tool as tool

__all__ = ["IDEMPOTENCY_KEY", "tool"]
