"""Recording the research team (examples/research_team.py) on a journal, for replays."""

from __future__ import annotations

import anyio
from examples.research_team import GetReport, Planner, SearchTool, Task, Worker

import actorflow as af
from actorflow import testing
from actorflow.journal import JournalBackend


async def record_team(
    journal: JournalBackend, task_id: str = "task-1", topic: str = "actor runtimes"
) -> str:
    """Run the team on one task to its report; return the report."""
    async with af.ActorSystem(journal=journal) as system:
        await system.spawn(SearchTool, name="search")
        for name in ("worker-1", "worker-2"):
            await system.spawn(Worker, name=name)
        planner = await system.spawn(Planner, name="planner")
        await planner.tell(Task(topic), id=task_id)
        with anyio.fail_after(20):  # each pass waits for the team to be idle: a real signal
            while (report := await planner.ask(GetReport())) is None:
                await testing.wait_idle(system)
        await testing.wait_idle(system)
    assert isinstance(report, str)
    return report
