"""A real MCP server for the tests, written with the SDK: ``python -m tests.mcp.server stdio``
or ``python -m tests.mcp.server http PORT`` (streamable HTTP on 127.0.0.1).

Every call appends one JSON line to the file named by ``MCP_TEST_CALLS`` (the tool, its
arguments and the request's ``_meta``), so tests count what the server really received. While
the file named by ``MCP_TEST_HOLD`` exists, a call waits after it was counted: a test can kill
the caller with a call in flight. Over HTTP, when ``MCP_TEST_TOKEN`` is set, every request must
carry ``Authorization: Bearer <that token>`` or is answered 401.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("actorflow-test", log_level="WARNING")


async def _count(ctx: Context, tool: str, arguments: dict[str, Any]) -> None:
    meta = ctx.request_context.meta or {}
    line = json.dumps({"tool": tool, "arguments": arguments, "meta": dict(meta)})
    calls = os.environ.get("MCP_TEST_CALLS")
    if calls:
        await anyio.to_thread.run_sync(_append, calls, line)
    hold = os.environ.get("MCP_TEST_HOLD")
    # The hold file belongs to another process, which removes it: there is no event to wait on.
    while hold and await anyio.Path(hold).exists():  # noqa: ASYNC110
        await anyio.sleep(0.01)


def _append(path: str, line: str) -> None:
    with open(path, "a") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
async def lookup(q: str, ctx: Context) -> str:
    """Look `q` up (read-only)."""
    await _count(ctx, "lookup", {"q": q})
    return f"found {q}"


@server.tool(annotations=ToolAnnotations(idempotent_hint=True, read_only_hint=False))
async def put(key: str, ctx: Context) -> str:
    """Store `key` (idempotent)."""
    await _count(ctx, "put", {"key": key})
    return f"stored {key}"


@server.tool()
async def charge(amount: int, ctx: Context) -> str:
    """Charge `amount` (neither read-only nor idempotent)."""
    await _count(ctx, "charge", {"amount": amount})
    return f"charged {amount}"


@server.tool()
async def refuse(reason: str, ctx: Context) -> str:
    """Fail with `reason` (an isError result)."""
    await _count(ctx, "refuse", {"reason": reason})
    raise ValueError(reason)


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
async def big(size: int, ctx: Context) -> str:
    """Return `size` characters."""
    await _count(ctx, "big", {"size": size})
    return "x" * size


@server.tool()
async def die(ctx: Context) -> str:
    """Kill this server in the middle of the call."""
    await _count(ctx, "die", {})
    os._exit(3)


@server.tool()
async def grow(name: str, ctx: Context) -> str:
    """Add a tool called `name` to this server (it echoes its `text`): the tool list changes."""
    await _count(ctx, "grow", {"name": name})

    async def grown(text: str, ctx: Context) -> str:
        await _count(ctx, name, {"text": text})
        return f"{name}: {text}"

    server.add_tool(grown, name=name, description=f"Echo `text` ({name}, added at run time).")
    return f"added {name}"


def _guarded(app: Any, token: str) -> Any:
    """`app` answering 401 to any HTTP request without ``Authorization: Bearer {token}``."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != expected:
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"unauthorized"})
            return
        await app(scope, receive, send)

    return guarded


def main() -> None:
    transport = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if transport == "http":
        token = os.environ.get("MCP_TEST_TOKEN")
        if token:
            import uvicorn

            app = _guarded(server.streamable_http_app(), token)
            uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
        else:
            server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()


if __name__ == "__main__":
    main()
