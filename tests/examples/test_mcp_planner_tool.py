"""examples/mcp_planner_tool.py under `actorflow mcp serve` on streamable HTTP, called by the
MCP SDK's client (T3): the planner's schemas, its plan as structured content, and a client's
retry (one idempotency key) answered from the journal: one message per distinct call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from examples.mcp_planner_tool import PlanRequest, ResearchPlan
from mcp import Client

from actorflow.mcp import IDEMPOTENCY_KEY
from tests.mcp_serve.support import (
    expected_input_schema,
    expected_output_schema,
    http_server,
    journal_messages,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


async def test_t3_the_planner_served_over_http(tmp_path: Path) -> None:
    journal = tmp_path / "planner.db"
    meta: Any = {IDEMPOTENCY_KEY: "plan-1"}
    async with (
        http_server(journal, app="examples.mcp_planner_tool:main") as (url, _),
        Client(url) as client,
    ):
        (listed,) = (await client.list_tools()).tools
        assert listed.name == "plan_research"
        assert listed.input_schema == expected_input_schema(PlanRequest)
        assert listed.output_schema == expected_output_schema(ResearchPlan)
        first = await client.call_tool("plan_research", {"topic": "MCP", "questions": 3}, meta=meta)
        retry = await client.call_tool("plan_research", {"topic": "MCP", "questions": 3}, meta=meta)
        other = await client.call_tool("plan_research", {"topic": "journals"})
    assert first.structured_content == {
        "type": "planner_tool.ResearchPlan",
        "topic": "MCP",
        "questions": ["How is MCP built?", "Who uses MCP?", "What does MCP cost to run?"],
        "plan_number": 1,
    }
    assert retry.structured_content == first.structured_content
    assert other.structured_content is not None
    assert other.structured_content["plan_number"] == 2
    requests = [m for m in journal_messages(journal) if m["type"] == "planner_tool.PlanRequest"]
    assert len(requests) == 2
