"""The journal's writer thread: jobs in order, in one thread, and when it is free (J8).

A small SQLite commit runs on the loop's thread only while the writer thread is idle, so that
the two never use the writer connection at once: `idle` must not say so before a job's end.
"""

from __future__ import annotations

import threading

import anyio
import pytest

from actorflow.journal._thread import WorkerThread

pytestmark = pytest.mark.anyio


async def test_j8_jobs_run_in_order_in_one_thread_that_is_not_the_loops() -> None:
    worker = WorkerThread("test worker")
    try:
        seen: list[tuple[int, int]] = []

        def job(n: int) -> int:
            seen.append((n, threading.get_ident()))
            return n * 10

        async with anyio.create_task_group() as tg:
            for n in range(20):
                tg.start_soon(worker.run, job, n)
        assert [n for n, _ in seen] == list(range(20))
        threads = {ident for _, ident in seen}
        assert len(threads) == 1
        assert threading.get_ident() not in threads
        assert await worker.run(job, 7) == 70
        with pytest.raises(ZeroDivisionError):
            await worker.run(lambda: 1 // 0)
        assert worker.idle
    finally:
        await anyio.to_thread.run_sync(worker.stop)


async def test_j8_idle_only_once_every_job_has_ended_even_when_its_caller_gave_up() -> None:
    worker = WorkerThread("test worker")
    try:
        assert worker.idle
        started, release = threading.Event(), threading.Event()

        def blocking() -> str:
            started.set()
            release.wait()
            return "done"

        with anyio.move_on_after(0) as scope:  # cancelled at its first wait
            await worker.run(blocking)
        assert scope.cancelled_caught
        await anyio.to_thread.run_sync(started.wait)
        assert not worker.idle  # its caller is gone, but the job still runs
        queued = anyio.Event()

        async def second() -> None:
            queued.set()
            assert await worker.run(lambda: "second") == "second"

        async with anyio.create_task_group() as tg:
            tg.start_soon(second)
            await queued.wait()
            release.set()
        assert worker.idle  # both ended and the loop was told of both
    finally:
        release.set()
        await anyio.to_thread.run_sync(worker.stop)
