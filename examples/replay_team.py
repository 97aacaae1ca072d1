"""Replay a recorded conversation of the research team through changed code (R1).

Records one task of examples/research_team.py in a journal, replays it through the same code
(nothing diverges), then through a planner with another prompt, with its LLM steps called
again while the search tool's results come from the record.

Usage: python examples/replay_team.py [JOURNAL] (default: replay-team.db, made anew).
"""

import sys
from pathlib import Path

import anyio

import actorflow as af
from actorflow import replay, testing
from research_team import GetReport, Planner, Research, SearchTool, Task, Worker, llm


async def record(path: Path) -> None:
    """Run the team on one task, to its report, on a journal at `path`."""
    async with af.ActorSystem(journal=path) as system:
        await system.spawn(SearchTool, name="search")
        for name in ("worker-1", "worker-2"):
            await system.spawn(Worker, name=name)
        planner = await system.spawn(Planner, name="planner")
        await planner.tell(Task("actor runtimes"), id="task-1")
        while await planner.ask(GetReport()) is None:
            await testing.wait_idle(system)


async def on_task_in_depth(self: Planner, msg: Task) -> None:
    """The planner's new prompt: the change under test."""
    plan = await self.ctx.step("plan", llm, f"plan: {msg.topic}, in depth")
    self.state.topic, self.state.questions = msg.topic, plan.split("|")
    for i, question in enumerate(self.state.questions):
        await self.ctx.system.lookup(f"worker-{i % 2 + 1}").tell(Research(question))


async def main(path: Path) -> None:
    await record(path)

    same = await replay.replay(path, "task-1")  # strict: every step from the record
    print(same.summary())

    Planner.on_task = on_task_in_depth  # type: ignore[method-assign]  # the code changed
    changed = await replay.replay(path, "task-1", live={"plan", "llm", "write"})
    print(changed.summary())
    for d in changed.divergences:
        if d.what == "state.report":
            print(f"{d.where} report was: {d.recorded}")
            print(f"{d.where} report now: {d.replayed}")


if __name__ == "__main__":
    journal = Path(sys.argv[1] if len(sys.argv) > 1 else "replay-team.db")
    journal.unlink(missing_ok=True)
    anyio.run(main, journal)
