"""The durable workflow on actorflow: a durable actor whose handler runs `STEPS` ``ctx.step``s.

Each ``await self.ctx.step(name, fn, *args)`` records the step's result in the SQLite journal,
so a re-run of the message after a crash returns recorded results instead of calling `fn`
again (J4). The step body is a pure function, declared so with `af.nonblocking`: the step calls
it on the event loop, as DBOS and LangGraph call it in the caller's thread.
`ThreadedStepsRunner` runs the same body undeclared, in actorflow's worker thread, which is
what a plain function gets by default. The client asks the actor to run a workflow and waits
for the reply; after a crash, recovery re-delivers the pending message, and the resumed process
waits until it is handled.
Concurrent workflows run on many such actors (`run_concurrently`), one workflow at a time each.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import uvloop

import actorflow as af

from .results import now_ns
from .sizes import STEPS
from .steps import step_body

ASK_TIMEOUT = 60.0
"""Seconds a workflow may take before the client's ask fails."""

pure_step_body = af.nonblocking(step_body)
"""The step body, declared not to block: a step calls it on the event loop."""


class RunWorkflow(af.Message, tag="peers.RunWorkflow"):
    """Run workflow `workflow_id`: `steps` steps, each recorded before the next one starts."""

    workflow_id: str
    steps: int
    in_thread: bool = False
    """Call the step body in a worker thread (a plain function's default), not on the loop."""


class WorkflowStatus(af.Message, tag="peers.WorkflowStatus"):
    """Asks how many steps workflow `workflow_id` completed (None: it has not completed)."""

    workflow_id: str


class Workflows(af.State):
    """The last workflow the actor completed, and how many steps it ran."""

    last_workflow: str = ""
    last_steps: int = 0


class WorkflowActor(af.Actor[Workflows], kind="peers.workflow"):
    """Runs one workflow per message, one step at a time, each step through the journal."""

    async def on_run_workflow(self, msg: RunWorkflow) -> int:
        body = step_body if msg.in_thread else pure_step_body
        results = [
            await self.ctx.step(f"step-{index + 1}", body, index) for index in range(msg.steps)
        ]
        self.state.last_workflow = msg.workflow_id
        self.state.last_steps = len(results)
        return len(results)

    def on_workflow_status(self, msg: WorkflowStatus) -> int | None:
        return self.state.last_steps if self.state.last_workflow == msg.workflow_id else None


class ActorflowRunner:
    """An `ActorSystem` with a journal at `where` (a SQLite file, or a PostgreSQL URL), on
    uvloop, open for the runner's lifetime.

    The system is entered and left by one task (`_hold`), as anyio's cancel scopes require;
    each `run` asks from a task of its own on the same loop.
    """

    in_thread = False
    """Whether the step body runs in a worker thread (`ThreadedStepsRunner`)."""

    def __init__(self, where: Path | str) -> None:
        self._loop = asyncio.Runner(loop_factory=uvloop.new_event_loop)
        self._system = af.ActorSystem(journal=where)
        self._ref: af.ActorRef[WorkflowActor] | None = None
        self._workers: list[af.ActorRef[WorkflowActor]] = []
        self._holder: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._collector = af.tuned_collector()

    def __enter__(self) -> ActorflowRunner:
        self._collector.__enter__()  # as `actorflow run` runs a system
        try:
            self._loop.run(self._start())
        except BaseException:
            self._collector.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._loop.run(self._close())
        finally:
            self._loop.close()
            self._collector.__exit__(None, None, None)

    async def _start(self) -> None:
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        self._holder = asyncio.create_task(self._hold(ready, self._stop))
        await asyncio.wait([ready, self._holder], return_when=asyncio.FIRST_COMPLETED)
        if self._holder.done():
            await self._holder  # raises what made the system fail to start

    async def _hold(self, ready: asyncio.Future[None], stop: asyncio.Event) -> None:
        async with self._system:
            self._ref = await self._system.spawn(WorkflowActor, name="workflow")
            ready.set_result(None)
            await stop.wait()

    async def _close(self) -> None:
        if self._stop is not None and self._holder is not None:
            self._stop.set()
            await self._holder

    def run(self, workflow_id: str) -> int:
        """Ask the actor to run a new workflow; return the number of steps it ran."""
        return self._loop.run(self._ask(RunWorkflow(workflow_id, STEPS, self.in_thread)))

    def resume(self, workflow_id: str) -> int:
        """Wait until recovery has handled the pending workflow, then ask how far it went."""
        self._loop.run(self._system.wait_idle())
        return self._loop.run(self._ask(WorkflowStatus(workflow_id))) or 0

    def run_concurrently(self, prefix: str, workers: int, per_worker: int) -> list[int]:
        """One durable actor per worker (spawned on first use), each asked for `per_worker`
        workflows one after another by a task of its own, all tasks at once."""
        return self._loop.run(self._run_concurrently(prefix, workers, per_worker))

    async def _run_concurrently(self, prefix: str, workers: int, per_worker: int) -> list[int]:
        while len(self._workers) < workers:
            name = f"workflow-{len(self._workers)}"
            self._workers.append(await self._system.spawn(WorkflowActor, name=name))

        async def worker(index: int) -> list[int]:
            ref = self._workers[index]
            durations = []
            for number in range(per_worker):
                started = now_ns()
                msg = RunWorkflow(f"{prefix}-{index}-{number}", STEPS, self.in_thread)
                completed = await ref.ask(msg, timeout=ASK_TIMEOUT)
                if completed != STEPS:
                    raise RuntimeError(f"a workflow completed {completed} steps, expected {STEPS}")
                durations.append(now_ns() - started)
            return durations

        per_task = await asyncio.gather(*(worker(index) for index in range(workers)))
        return [duration for durations in per_task for duration in durations]

    async def _ask(self, msg: RunWorkflow | WorkflowStatus) -> int | None:
        assert self._ref is not None
        answer: int | None = await self._ref.ask(msg, timeout=ASK_TIMEOUT)
        return answer


class ThreadedStepsRunner(ActorflowRunner):
    """The same workflows with the step body undeclared: each call goes to a worker thread and
    back, as every plain function's does unless it is declared `af.nonblocking`."""

    in_thread = True
