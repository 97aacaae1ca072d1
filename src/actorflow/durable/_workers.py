"""The threads that run plain (blocking) step functions: a pool of our own, one per event loop.

``anyio.to_thread.run_sync`` cost 104-124 us a round trip here (a checkpoint, a capacity
limiter, a queue.Queue and its condition); a thread that waits on a ``queue.SimpleQueue`` of its
own and answers through ``call_soon_threadsafe`` costs 55-63 us. What the hop gives stays the
same: the caller waits for the function to end even when it is cancelled (a side effect that
has started is never abandoned), the function sees the caller's context variables (a copy), and
its exception is raised to the caller as it is.

Threads are started on demand, up to `LIMIT` (anyio's default too); an idle one is reused most
recently idle first, so a fast function keeps to one or two threads however many steps run,
and one idle for `IDLE_SECONDS` ends. All the bookkeeping runs on the loop's thread: a worker
thread only runs its job and posts the outcome back.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Final, TypeVar, final

import anyio
import anyio.lowlevel

__all__ = ["IDLE_SECONDS", "LIMIT", "WorkerPool", "run_in_worker"]

T = TypeVar("T")

LIMIT: Final = 40
"""Threads running step functions at once, per event loop; more calls wait for one."""

IDLE_SECONDS: Final = 10.0
"""A thread idle this long ends (anyio's worker threads do the same)."""

_Job = tuple[contextvars.Context, Callable[[], Any], "asyncio.Future[Any]"]


@final
class _Worker:
    """One thread and the queue it takes its jobs from (None: end)."""

    __slots__ = ("jobs", "pool", "thread")

    def __init__(self, pool: WorkerPool, number: int) -> None:
        self.pool = pool
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.thread = threading.Thread(
            target=self._work, name=f"actorflow step worker {number}", daemon=True
        )

    def _work(self) -> None:
        loop = self.pool.loop
        while True:
            try:
                job = self.jobs.get(timeout=self.pool.idle_seconds)
            except queue.Empty:
                # Ask the loop to retire this worker; a job it was handed meanwhile still comes.
                if not _post(loop, self.pool.retire, self):
                    return  # the loop is closed: nobody can hand this worker a job any more
                job = self.jobs.get()
            if job is None:
                return
            posted = _post(loop, self.pool.finished, self, *_outcome(job))
            del job  # nothing of it is kept alive while this thread waits for the next one
            if not posted:
                return


def _outcome(job: _Job) -> tuple[asyncio.Future[Any], tuple[bool, Any]]:
    """Run `job` in its context: its future, and (True, result) or (False, exception)."""
    context, fn, future = job
    try:
        return future, (True, context.run(fn))
    except BaseException as exc:  # handed to the waiting task, whatever it is
        return future, (False, exc)


@final
class WorkerPool:
    """Threads for the plain step functions of one event loop (see the module's docstring).

    Use it from the loop's thread only; `run_in_worker` finds the running loop's pool.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        limit: int = LIMIT,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        if limit < 1:
            raise ValueError(f"a worker pool needs at least one thread, not {limit}")
        if not idle_seconds > 0:
            raise ValueError(f"idle_seconds must be above 0, not {idle_seconds}")
        self.loop = loop
        self.limit = limit
        self.idle_seconds = idle_seconds
        self._idle: list[_Worker] = []  # most recently idle last
        self._waiting: deque[_Job] = deque()  # jobs for which no thread was free
        self._started = 0
        self._workers = 0

    @property
    def threads(self) -> int:
        """Threads alive now (running a job or idle)."""
        return self._workers

    @property
    def idle(self) -> int:
        """Threads waiting for a job now."""
        return len(self._idle)

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` in a worker thread and return its result, or raise its exception.

        A cancelled caller still waits for `fn` to end (the cancellation is delivered at its
        next checkpoint after that), so a side effect that started is never left running
        behind it. `fn` runs in a copy of the caller's context.
        """
        future: asyncio.Future[T] = self.loop.create_future()
        job: _Job = (contextvars.copy_context(), fn, future)
        if self._idle:
            self._idle.pop().jobs.put(job)
        elif self._workers < self.limit:
            self._start().jobs.put(job)
        else:
            self._waiting.append(job)
        with anyio.CancelScope(shield=True):
            result = await future
        return result  # noqa: RET504 (mypy: a CancelScope may swallow what its body raises)

    def finished(
        self, worker: _Worker, future: asyncio.Future[Any], outcome: tuple[bool, Any]
    ) -> None:
        """A worker's job ended (on the loop): resolve its caller, give the worker its next job."""
        succeeded, value = outcome
        if not future.done():  # a task cancelled outside anyio stopped waiting for it
            if succeeded:
                future.set_result(value)
            elif isinstance(value, StopIteration):  # a future refuses it: as anyio does
                error = RuntimeError("a step function raised StopIteration")
                error.__cause__ = value
                future.set_exception(error)
            else:
                future.set_exception(value)
        while self._waiting:
            job = self._waiting.popleft()
            if not job[2].done():  # its caller, cancelled outside anyio, is gone: never start it
                worker.jobs.put(job)
                return
        self._idle.append(worker)

    def retire(self, worker: _Worker) -> None:
        """`worker` was idle for `idle_seconds` (on the loop): end it, unless it has a job."""
        if worker in self._idle:
            self._idle.remove(worker)
            self._workers -= 1
            worker.jobs.put(None)

    def _start(self) -> _Worker:
        self._started += 1
        worker = _Worker(self, self._started)
        worker.thread.start()
        self._workers += 1
        return worker

    def __repr__(self) -> str:
        return (
            f"<WorkerPool threads={self._workers} idle={len(self._idle)}"
            f" waiting={len(self._waiting)} limit={self.limit}>"
        )


_pools: anyio.lowlevel.RunVar[WorkerPool] = anyio.lowlevel.RunVar("actorflow_step_workers")


async def run_in_worker(fn: Callable[[], T]) -> T:
    """Run ``fn()`` in a thread of the running event loop's `WorkerPool` (made on first use)."""
    try:
        pool = _pools.get()
    except LookupError:
        pool = WorkerPool(asyncio.get_running_loop())
        _pools.set(pool)
    return await pool.run(fn)


def _post(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> bool:
    """Call ``fn(*args)`` on `loop`; False if the loop is closed."""
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:
        return False
    return True
