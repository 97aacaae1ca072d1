"""Record the research team (examples/research_team.py) on a few topics, as replay bundles.

    python -m examples.evals.record        # writes examples/evals/bundles/*.bundle

Each topic runs on a fresh in-memory journal, to its report; its conversation is then written
as a bundle: messages, steps, the states before and after each turn, the actors' kinds.
"""

from __future__ import annotations

from pathlib import Path

import anyio
from examples.research_team import GetReport, Planner, SearchTool, Task, Worker

import actorflow as af
from actorflow import replay, testing
from actorflow.journal import JournalBackend, MemoryJournal

TOPICS = {"task-1": "actor runtimes", "task-2": "durable workflows", "task-3": "agent teams"}
BUNDLES = Path(__file__).parent / "bundles"


async def record_team(
    journal: JournalBackend, task_id: str = "task-1", topic: str = "actor runtimes"
) -> str:
    """Run the team on one task to its report on `journal`; return the report."""
    async with af.ActorSystem(journal=journal) as system:
        await system.spawn(SearchTool, name="search")
        for name in ("worker-1", "worker-2"):
            await system.spawn(Worker, name=name)
        planner = await system.spawn(Planner, name="planner")
        await planner.tell(Task(topic), id=task_id)
        with anyio.fail_after(20):
            while (report := await planner.ask(GetReport())) is None:
                await testing.wait_idle(system)  # then ask again: no sleeping
    assert isinstance(report, str)
    return report


async def main() -> None:
    BUNDLES.mkdir(exist_ok=True)
    for task_id, topic in TOPICS.items():
        journal = MemoryJournal()
        await record_team(journal, task_id, topic)
        await journal.open()
        recording = await replay.load_recording(journal, task_id)
        await journal.close()
        size = replay.write_bundle(recording, BUNDLES / f"{task_id}.bundle")
        print(f"{task_id}: {topic!r}, {len(recording.turns)} turns, {size} bytes")


if __name__ == "__main__":
    anyio.run(main)
