"""Running ``actorflow mcp serve`` as a real process, and reading its journal with the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import msgspec
from anyio.abc import Process
from mcp import Client
from mcp.client.stdio import StdioServerParameters

ROOT = Path(__file__).resolve().parent.parent.parent
APP = "tests.apps.tools:main"

# Progress every 50 ms, so that a waiting call reports some soon.
SERVE = ["-m", "actorflow", "mcp", "serve", "--progress-every", "0.05"]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def stdio_client(
    journal: Path | str, app: str = APP, extra_env: dict[str, str] | None = None
) -> Client:
    """The SDK's client, starting the server over stdio on `journal` (a file or a URL), with
    `extra_env` in its environment."""
    params = StdioServerParameters(
        command=sys.executable,
        args=[*SERVE, app, "--journal", str(journal)],
        env={"PYTHONPATH": str(ROOT), **(extra_env or {})},
        cwd=ROOT,
    )
    return Client(params)


@asynccontextmanager
async def http_server(journal: Path, app: str = APP) -> AsyncIterator[tuple[str, Process]]:
    """The server on streamable HTTP at 127.0.0.1 (a free port): its URL and its process.

    Stopped with SIGINT at the end, which it must survive with exit status 0.
    """
    process = await anyio.open_process(
        [sys.executable, *SERVE, app, "--journal", str(journal), "--http", "127.0.0.1:0"],
        cwd=ROOT,
        env=env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        assert process.stderr is not None
        lines = _lines(process.stderr)
        url = ""
        with anyio.fail_after(20):
            async for line in lines:
                if "serving MCP on " in line:
                    url = line.rsplit(" ", 1)[-1]
                    break
        assert url.startswith("http://127.0.0.1:"), url
        yield url, process
        process.send_signal(2)  # SIGINT: stop gracefully
        with anyio.fail_after(20):
            status = await process.wait()
        assert status == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await process.aclose()


async def _lines(stream: Any) -> AsyncIterator[str]:
    buffer = b""
    async for chunk in stream:
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line.decode()


def journal_messages(journal: Path) -> list[dict[str, Any]]:
    """The journal's messages, as ``actorflow journal messages --json`` prints them."""
    result = subprocess.run(
        [sys.executable, "-m", "actorflow", "journal", "messages", "--json"],
        cwd=ROOT,
        env={**env(), "ACTORFLOW_JOURNAL": str(journal)},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


def expected_input_schema(message_type: type[msgspec.Struct]) -> dict[str, Any]:
    """msgspec's schema of `message_type`, its definition at the root, its tag field left out."""
    schema = msgspec.json.schema(message_type)
    root = dict(schema["$defs"][message_type.__name__])
    root["properties"] = {k: v for k, v in root["properties"].items() if k != "type"}
    root["required"] = [k for k in root["required"] if k != "type"]
    return root


def expected_output_schema(reply_type: type[msgspec.Struct]) -> dict[str, Any]:
    """msgspec's schema of `reply_type`, its definition at the root."""
    return dict(msgspec.json.schema(reply_type)["$defs"][reply_type.__name__])
