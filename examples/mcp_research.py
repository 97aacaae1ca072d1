"""The research team of research_team.py, whose search tool is a real MCP server.

A planner splits a task into questions, two workers research one each and the planner writes
the report. The workers' search goes to `web_search` on examples/mcp_search_server.py, an MCP
server run over stdio (started on the first call, once per process), through
``actorflow.mcp``: each tool call is a step (T1), recorded in the journal when it returns, so a
run killed halfway finishes when run again without calling a recorded tool again. The search
tool declares itself read-only, so a call that was in flight at a crash is simply made again
(T2).

    actorflow run examples.mcp_research:main --journal team.db
    actorflow journal conversation task-1 --journal team.db

The LLM is a deterministic fake (no network, no keys), declared as an LLM call for its spans.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import anyio

import actorflow as af
from actorflow import mcp

# -- the tools: one MCP server, declared once for the whole system ---------------------------

SERVER = Path(__file__).with_name("mcp_search_server.py")

servers = mcp.Servers(search=mcp.StdioServer([sys.executable, str(SERVER)]))

MODEL = af.LLMCall[str](model="fake-1", provider="local")


async def llm(prompt: str) -> str:
    """A stand-in for a chat-completion call: ~50 ms, and deterministic."""
    await anyio.sleep(0.05)
    if prompt.startswith("plan:"):
        topic = prompt.removeprefix("plan:").strip()
        return f"How is {topic} built?|Who uses {topic}?"
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:6]
    return f"{prompt.split(':', 1)[-1].strip()} [{digest}]"


# -- messages ---------------------------------------------------------------------------------


class Task(af.Message, tag="mcp_team.Task"):
    topic: str


class Research(af.Message, tag="mcp_team.Research"):
    question: str


class Finding(af.Message, tag="mcp_team.Finding"):
    question: str
    answer: str


class GetReport(af.Message, tag="mcp_team.GetReport"):
    pass


# -- actors -----------------------------------------------------------------------------------


class Worker(af.Actor[None], kind="mcp_team.Worker"):
    async def on_research(self, msg: Research) -> None:
        tools = await servers.list_tools(self.ctx, "search")  # the schemas, for a real model
        assert [tool.name for tool in tools] == ["web_search"]
        found = await servers.call(self.ctx, "search", "web_search", {"query": msg.question})
        prompt = f"answer: {msg.question} {found.text}"
        answer = await self.ctx.step("llm", llm, prompt, llm=MODEL)
        await self.ctx.system.lookup("planner").tell(Finding(msg.question, answer))


class Plan(af.State):
    questions: list[str] = []
    findings: dict[str, str] = {}
    report: str | None = None


DONE = anyio.Event()  # set when the report is written (main waits on it)


class Planner(af.Actor[Plan], kind="mcp_team.Planner"):
    async def on_task(self, msg: Task) -> None:
        plan = await self.ctx.step("plan", llm, f"plan: {msg.topic}", llm=MODEL)
        self.state.questions = plan.split("|")
        for i, question in enumerate(self.state.questions):
            await self.ctx.system.lookup(f"worker-{i % 2 + 1}").tell(Research(question))

    async def on_finding(self, msg: Finding) -> None:
        self.state.findings[msg.question] = msg.answer
        if len(self.state.findings) == len(self.state.questions):
            notes = "; ".join(self.state.findings[q] for q in self.state.questions)
            self.state.report = await self.ctx.step("write", llm, f"report: {notes}", llm=MODEL)
            DONE.set()

    def on_get_report(self, msg: GetReport) -> str | None:
        return self.state.report


async def main(system: af.ActorSystem) -> None:
    for name in ("worker-1", "worker-2"):
        await system.spawn(Worker, name=name)
    planner = await system.spawn(Planner, name="planner")
    await planner.tell(Task("actor runtimes"), id="task-1")  # once, however often we run
    if await planner.ask(GetReport()) is None:
        await DONE.wait()
    print("report:", await planner.ask(GetReport()))


if __name__ == "__main__":
    af.run(main, journal=sys.argv[1] if len(sys.argv) > 1 else "team.db")
