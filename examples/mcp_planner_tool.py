"""A planner agent served as an MCP tool: any MCP client can ask it for a research plan.

The planner is a durable actor; its handler is marked with `@tool`, so `actorflow mcp serve`
serves it as the tool `plan_research` (its docstring the description, `PlanRequest` the input
schema, `ResearchPlan` the output schema):

    actorflow mcp serve examples.mcp_planner_tool:main --journal planner.db
    actorflow mcp serve examples.mcp_planner_tool:main --journal planner.db --http 127.0.0.1:8000

Run as a script, it is the client too: it starts the server over stdio with the MCP SDK's own
client, lists the tools, and calls `plan_research` twice with one idempotency key. The second
call is answered from the journal: the planner handled one message and made one LLM call.
The LLM is a deterministic fake (no network, no keys).
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

import actorflow as af
from actorflow.mcp import IDEMPOTENCY_KEY, tool


async def llm(prompt: str) -> str:
    """A stand-in for a chat-completion call: deterministic, ~50 ms."""
    await anyio.sleep(0.05)
    topic = prompt.removeprefix("plan:").strip()
    return f"How is {topic} built?|Who uses {topic}?|What does {topic} cost to run?"


class PlanRequest(af.Message, tag="planner_tool.PlanRequest"):
    topic: str
    questions: int = 2


class ResearchPlan(af.Message, tag="planner_tool.ResearchPlan"):
    topic: str
    questions: list[str]
    plan_number: int


class Plans(af.State):
    made: int = 0


class Planner(af.Actor[Plans], kind="planner_tool.Planner"):
    @tool(name="plan_research")
    async def on_plan(self, msg: PlanRequest) -> ResearchPlan:
        """Split a research topic into the questions a research team should answer."""
        text = await self.ctx.step("llm", llm, f"plan: {msg.topic}")  # recorded once (J4)
        self.state.made += 1
        return ResearchPlan(msg.topic, text.split("|")[: msg.questions], self.state.made)


async def main(system: af.ActorSystem) -> None:
    """What `actorflow mcp serve` runs: start the planner, which then serves calls."""
    await system.spawn(Planner, name="planner")


# -- the client: the MCP SDK, starting the server as a subprocess -----------------------------


ROOT = Path(__file__).resolve().parent.parent  # where `examples` can be imported from


async def ask_the_planner(journal: str) -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    serve = ["mcp", "serve", "examples.mcp_planner_tool:main", "--journal", journal]
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "actorflow", *serve], env={"PYTHONPATH": str(ROOT)}
    )
    async with Client(server) as client:
        for listed in (await client.list_tools()).tools:
            print(f"tool {listed.name}: {listed.description}")
        for attempt in (1, 2):  # the second is a client's retry: same idempotency key
            result = await client.call_tool(
                "plan_research",
                {"topic": "actor runtimes"},
                meta={IDEMPOTENCY_KEY: "plan-actor-runtimes"},
            )
            plan = result.structured_content
            if result.is_error or plan is None:
                raise SystemExit(f"the call failed: {result.content}")
            print(f"call {attempt}: plan {plan['plan_number']}: {' | '.join(plan['questions'])}")


if __name__ == "__main__":
    anyio.run(ask_the_planner, "planner.db")
