"""An application for `actorflow run` that calls a tool on the test MCP server (T1, T2), started
and SIGKILLed by tests/mcp/test_crash.py.

`main` sends one `Do` (an idempotent id, so a restarted run does not send it again), then asks
for what the worker recorded and prints it as JSON with the dead letters of this run.
``MCP_APP_TOOL`` and ``MCP_APP_ARGUMENTS`` say what to call; ``MCP_TEST_CALLS`` and
``MCP_TEST_HOLD`` go to the server (see tests/mcp/server.py).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import actorflow as af
from actorflow import mcp

ROOT = Path(__file__).resolve().parents[2]

servers = mcp.Servers(
    tools=mcp.StdioServer(
        [sys.executable, "-m", "tests.mcp.server", "stdio"],
        env={name: os.environ.get(name, "") for name in ("MCP_TEST_CALLS", "MCP_TEST_HOLD")},
        cwd=str(ROOT),
    )
)


class Do(af.Message, tag="mcp_app.Do"):
    tool: str
    arguments: dict[str, Any]


class Report(af.Message, tag="mcp_app.Report"):
    pass


class Done(af.State):
    results: list[str] = []


class Worker(af.Actor[Done], kind="mcp_app.Worker"):
    async def on_do(self, msg: Do) -> None:
        result = await servers.call(self.ctx, "tools", msg.tool, msg.arguments)
        self.state.results.append(result.text)

    def on_report(self, msg: Report) -> list[str]:
        return self.state.results


async def main(system: af.ActorSystem) -> None:
    worker = await system.spawn(Worker, name="worker")
    do = Do(os.environ["MCP_APP_TOOL"], json.loads(os.environ.get("MCP_APP_ARGUMENTS", "{}")))
    await worker.tell(do, id="do-1")
    print("sent", flush=True)
    results = await worker.ask(Report(), timeout=60, expect=list)
    dead = [letter.error for letter in system.dead_letters]
    print(json.dumps({"results": results, "dead": dead}), flush=True)
