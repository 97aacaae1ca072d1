"""The actors the MCP tests run: one that calls a tool per message, by server name."""

from __future__ import annotations

from typing import Any

import actorflow as af
from actorflow import mcp

REGISTRY: dict[str, mcp.Servers] = {}
"""The `Servers` of the running test, by a name the actor is spawned with (durable actors'
constructor arguments are stored, so they name the servers rather than hold them)."""


class Call(af.Message, tag="mcp_test.Call"):
    server: str
    tool: str
    arguments: dict[str, Any] = {}
    fail_first: bool = False  # fail the handler after the call, once, to make it re-run


class ListTools(af.Message, tag="mcp_test.ListTools"):
    server: str


class Caller(af.Actor, kind="mcp_test.Caller"):
    def __init__(self, registry: str) -> None:
        self.servers = REGISTRY[registry]

    async def on_call(self, msg: Call) -> str:
        result = await self.servers.call(self.ctx, msg.server, msg.tool, msg.arguments)
        if msg.fail_first and self.ctx.attempt == 1:
            raise RuntimeError("failing after the call, to be handled again")
        return result.text

    async def on_list(self, msg: ListTools) -> list[mcp.ToolInfo]:
        return await self.servers.list_tools(self.ctx, msg.server)
