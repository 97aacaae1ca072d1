"""Cancelling a conversation: what is still pending in it is never handled.

A planner hands three steps of a plan to a worker and sets a reminder for it, while the worker
is busy with a long job; the process stops before the job ends. `af.journal.cancel` (what
`actorflow journal cancel` runs, from any process, also while a system runs) cancels the plan's
conversation. The next start restores the long job, which finishes; the steps and the reminder
never run. A second plan is left pending at the end, to try the CLI on.

Usage: python examples/cancelling.py [JOURNAL] (default: cancelling.db, made anew).
"""

import sys
from pathlib import Path

import anyio

import actorflow as af


class Job(af.Message, tag="plans.Job"):
    title: str


class Plan(af.Message, tag="plans.Plan"):
    name: str
    steps: int


class Step(af.Message, tag="plans.Step"):
    plan: str
    n: int


class Ping(af.Message, tag="plans.Ping"):
    """Answered once everything sent to the planner before it has been handled."""


class Done(af.State):
    done: list[str] = []


class Worker(af.Actor[Done], kind="plans.Worker"):
    jobs_go_on = anyio.Event()  # a long job ends when this is set

    async def on_job(self, msg: Job) -> Done:
        await type(self).jobs_go_on.wait()
        self.state.done.append(msg.title)
        return self.state

    def on_step(self, msg: Step) -> None:
        self.state.done.append(f"{msg.plan} step {msg.n}")


class Planner(af.Actor[af.State], kind="plans.Planner"):
    async def on_plan(self, msg: Plan) -> None:
        worker = self.ctx.system.lookup("worker")
        for n in range(1, msg.steps + 1):
            await worker.tell(Step(msg.name, n), id=f"{msg.name}-step-{n}")
        await self.ctx.schedule(3600, Step(msg.name, 0), to=worker)  # a reminder in an hour

    def on_ping(self, msg: Ping) -> None:
        pass


async def first_run(system: af.ActorSystem) -> None:
    worker = await system.spawn(Worker, name="worker", shutdown_timeout=0.1)
    planner = await system.spawn(Planner, name="planner")
    await worker.tell(Job("long report"), id="job-1")
    await planner.tell(Plan("plan-1", steps=3), id="plan-1")  # the conversation "plan-1"
    await planner.ask(Ping())  # plan-1 is sent: its steps wait behind the long job
    # Stopping now cuts the long job off: it, the steps and the reminder stay pending.


async def second_run(system: af.ActorSystem) -> None:
    worker = system.lookup("worker")
    Worker.jobs_go_on.set()
    state = await worker.ask(Job("short note"), expect=Done)  # after the restored long job
    print(f"the worker did: {state.done}")

    # Left for the CLI: a long job that never ends here, and plan-2 waiting behind it.
    Worker.jobs_go_on = anyio.Event()
    await worker.tell(Job("longer report"), id="job-2")
    await system.lookup("planner").tell(Plan("plan-2", steps=2), id="plan-2")
    await system.lookup("planner").ask(Ping())


if __name__ == "__main__":
    journal = Path(sys.argv[1] if len(sys.argv) > 1 else "cancelling.db")
    for leftover in (journal, Path(f"{journal}-wal"), Path(f"{journal}-shm")):
        leftover.unlink(missing_ok=True)
    af.run(first_run, journal=journal)
    cancelled = af.journal.cancel(journal, conversation="plan-1", by="example via python")
    print(f"cancelled {len(cancelled.messages)} steps and {len(cancelled.timers)} reminder")
    af.run(second_run, journal=journal)
