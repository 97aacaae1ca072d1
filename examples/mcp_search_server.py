"""A small MCP search server, written with the official SDK and run over stdio.

examples/mcp_research.py starts it as a subprocess (one per process) and calls its
`web_search` tool from its workers. Run by itself it serves stdin and stdout until stdin ends.
Set MCP_SEARCH_CALLS to a file to have every call appended to it, one line each.
"""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("search", log_level="WARNING")

INDEX = {
    "built": "Sources: the design notes and the source code.",
    "uses": "Sources: user surveys and public case studies.",
}


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def web_search(query: str) -> str:
    """Search the index for `query`; the sources found, or that there are none."""
    calls = os.environ.get("MCP_SEARCH_CALLS")
    if calls:
        with open(calls, "a") as log:
            log.write(query + "\n")
    for word, hit in INDEX.items():
        if word in query:
            return hit
    return "No sources found."


if __name__ == "__main__":
    server.run()
