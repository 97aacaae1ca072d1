"""Shared by the MCP tests: the test server's command, its call log, a free port."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def server_command(transport: str = "stdio", *extra: str) -> list[str]:
    return [sys.executable, "-m", "tests.mcp.server", transport, *extra]


def stdio_server(call_log: Path, **options: Any) -> Any:
    """The test server over stdio, counting its calls in `call_log` (the SDK starts servers
    with a minimal environment, so what it needs is passed explicitly)."""
    from actorflow import mcp

    env = {"MCP_TEST_CALLS": str(call_log), **options.pop("env", {})}
    return mcp.StdioServer(server_command(), env=env, cwd=str(ROOT), **options)


def calls(path: Path) -> list[dict[str, Any]]:
    """The calls the server counted, oldest first."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
