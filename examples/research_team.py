"""A research team: a planner agent, two worker agents and a search tool, over a journal.

The planner splits a task into questions, each worker researches one (a tool call and an LLM
call), and the planner writes the report from their findings. Every LLM call and tool call is a
step (J4): recorded in the journal as it returns, so if the process is killed halfway, running
it again finishes the work without repeating a call that was recorded.

    actorflow run examples.research_team:main --journal team.db
    actorflow journal conversation task-1 --journal team.db

The LLM is a deterministic fake (no network, no keys). Set RESEARCH_TEAM_CALLS to a file to
have every real call appended to it, one line each: the tests count them across a SIGKILL.
"""

from __future__ import annotations

import hashlib
import os
import sys

import anyio

import actorflow as af

# -- the outside world: a fake LLM and a search index ---------------------------------------


async def llm(prompt: str) -> str:
    """A stand-in for a chat-completion call: ~50 ms, like a fast model, and deterministic."""
    calls = os.environ.get("RESEARCH_TEAM_CALLS")
    if calls:
        async with await anyio.open_file(calls, "a") as log:
            await log.write(prompt + "\n")
    await anyio.sleep(0.05)
    return completion(prompt)


def completion(prompt: str) -> str:
    """What the fake model answers to `prompt`."""
    if prompt.startswith("plan:"):
        topic = prompt.removeprefix("plan:").strip()
        return f"How is {topic} built?|Who uses {topic}?"
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:6]
    return f"{prompt.split(':', 1)[-1].strip()} [{digest}]"


INDEX = {
    "built": "Sources: the design notes and the source code.",
    "uses": "Sources: user surveys and public case studies.",
}


# -- messages ---------------------------------------------------------------------------------


class Task(af.Message, tag="team.Task"):
    topic: str


class Research(af.Message, tag="team.Research"):
    question: str


class Finding(af.Message, tag="team.Finding"):
    question: str
    answer: str


class Search(af.Message, tag="team.Search"):
    query: str


class GetReport(af.Message, tag="team.GetReport"):
    pass


# -- actors -----------------------------------------------------------------------------------


class SearchTool(af.Actor[None], kind="team.SearchTool"):
    """The search tool: an actor, so one request at a time reaches the index."""

    def on_search(self, msg: Search) -> str:
        for word, hit in INDEX.items():
            if word in msg.query:
                return hit
        return "No sources found."


class Notes(af.State):
    question: str = ""
    answer: str = ""


class Worker(af.Actor[Notes], kind="team.Worker"):
    async def on_research(self, msg: Research) -> None:
        tool = self.ctx.system.lookup("search")
        sources = await self.ctx.step("search", tool.ask, Search(msg.question))
        answer = await self.ctx.step("llm", llm, f"answer: {msg.question} {sources}")
        self.state.question, self.state.answer = msg.question, answer
        await self.ctx.system.lookup("planner").tell(Finding(msg.question, answer))


class Plan(af.State):
    topic: str = ""
    questions: list[str] = []
    findings: dict[str, str] = {}
    report: str | None = None


DONE = anyio.Event()  # set when the report is written (main waits on it)


class Planner(af.Actor[Plan], kind="team.Planner"):
    async def on_task(self, msg: Task) -> None:
        plan = await self.ctx.step("plan", llm, f"plan: {msg.topic}")
        self.state.topic, self.state.questions = msg.topic, plan.split("|")
        for i, question in enumerate(self.state.questions):
            await self.ctx.system.lookup(f"worker-{i % 2 + 1}").tell(Research(question))

    async def on_finding(self, msg: Finding) -> None:
        self.state.findings[msg.question] = msg.answer
        if len(self.state.findings) == len(self.state.questions):
            notes = "; ".join(self.state.findings[q] for q in self.state.questions)
            self.state.report = await self.ctx.step("write", llm, f"report: {notes}")
            DONE.set()

    def on_get_report(self, msg: GetReport) -> str | None:
        return self.state.report


async def main(system: af.ActorSystem) -> None:
    await system.spawn(SearchTool, name="search")
    for name in ("worker-1", "worker-2"):
        await system.spawn(Worker, name=name)
    planner = await system.spawn(Planner, name="planner")
    await planner.tell(Task("actor runtimes"), id="task-1")  # once, however often we run
    if await planner.ask(GetReport()) is None:
        await DONE.wait()
    print("report:", await planner.ask(GetReport()))


if __name__ == "__main__":
    af.run(main, journal=sys.argv[1] if len(sys.argv) > 1 else "team.db")
