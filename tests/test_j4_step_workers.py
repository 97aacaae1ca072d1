"""J4: the threads that run plain step functions keep what anyio's thread hop gave.

The caller waits for the function to end even when cancelled (a side effect that started is
never abandoned), the function sees a copy of the caller's context variables, its exception
comes back as it is; threads grow on demand up to the pool's bound and the most recently idle
one is reused first, so sequential steps keep to one thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import pytest
from anyio.lowlevel import checkpoint

from actorflow.durable._workers import WorkerPool, run_in_worker

pytestmark = pytest.mark.anyio

where: contextvars.ContextVar[str] = contextvars.ContextVar("where", default="unset")


def pool(**options: Any) -> WorkerPool:
    return WorkerPool(asyncio.get_running_loop(), **options)


def blocked_until(release: threading.Event, started: threading.Event | None = None) -> Any:
    def fn() -> str:
        if started is not None:
            started.set()
        if not release.wait(30):
            raise TimeoutError("the test never released the step function")
        return threading.current_thread().name

    return fn


async def test_j4_a_plain_function_runs_in_another_thread_with_a_copy_of_the_context() -> None:
    where.set("caller")

    def fn() -> tuple[str, int]:
        seen = where.get()
        where.set("thread")  # a copy: the caller's value stays
        return seen, threading.get_ident()

    seen, ident = await run_in_worker(fn)
    assert seen == "caller"
    assert ident != threading.get_ident()
    assert where.get() == "caller"


async def test_j4_the_function_s_exception_is_raised_as_it_is() -> None:
    error = KeyError("missing")

    def fn() -> None:
        raise error

    with pytest.raises(KeyError) as caught:
        await run_in_worker(fn)
    assert caught.value is error
    assert any(frame.name == "fn" for frame in caught.traceback)  # raised where it was


async def test_j4_a_stop_iteration_comes_back_as_a_runtime_error() -> None:
    def fn() -> None:
        raise StopIteration

    with pytest.raises(RuntimeError, match="StopIteration") as caught:
        await run_in_worker(fn)
    assert isinstance(caught.value.__cause__, StopIteration)


async def test_j4_a_cancelled_caller_waits_for_its_function_to_end() -> None:
    workers = pool()
    started, release = threading.Event(), threading.Event()
    order: list[str] = []

    def fn() -> str:
        started.set()
        release.wait(30)
        order.append("function ended")
        return "done"

    async def caller(scope: anyio.CancelScope) -> None:
        with scope:
            result = await workers.run(fn)
            order.append(f"caller got {result}")
            await checkpoint()  # the cancellation is delivered here, after the function
            order.append("not reached")
        order.append("caller cancelled")

    scope = anyio.CancelScope()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(caller, scope)
        await anyio.to_thread.run_sync(started.wait)
        scope.cancel()
        await anyio.wait_all_tasks_blocked()
        assert order == []  # still waiting for the function, cancelled or not
        release.set()
    assert order == ["function ended", "caller got done", "caller cancelled"]
    assert scope.cancelled_caught


async def test_j4_sequential_calls_keep_to_one_thread() -> None:
    workers = pool()
    names = {await workers.run(lambda: threading.current_thread().name) for _ in range(50)}
    assert len(names) == 1
    assert (workers.threads, workers.idle) == (1, 1)


async def test_j4_threads_grow_to_the_bound_and_later_calls_wait_for_one() -> None:
    workers = pool(limit=3)
    release = threading.Event()
    starts = [threading.Event() for _ in range(5)]
    results: list[str] = []

    async def call(started: threading.Event) -> None:
        results.append(await workers.run(blocked_until(release, started)))

    async with anyio.create_task_group() as tasks:
        for started in starts:
            tasks.start_soon(call, started)
        for started in starts[:3]:
            await anyio.to_thread.run_sync(started.wait)
        await anyio.wait_all_tasks_blocked()
        assert workers.threads == 3
        assert [started.is_set() for started in starts[3:]] == [False, False]  # no thread free
        release.set()
    assert len(results) == 5
    assert len(set(results)) == 3  # the waiting calls ran on threads that were freed
    assert (workers.threads, workers.idle) == (3, 3)


async def test_j4_the_most_recently_idle_thread_is_reused_first() -> None:
    workers = pool()
    releases = [threading.Event(), threading.Event()]
    starts = [threading.Event(), threading.Event()]
    ended = [anyio.Event(), anyio.Event()]
    names: list[str] = ["", ""]

    async def call(index: int) -> None:
        names[index] = await workers.run(blocked_until(releases[index], starts[index]))
        ended[index].set()

    async with anyio.create_task_group() as tasks:
        for index in (0, 1):
            tasks.start_soon(call, index)
            await anyio.to_thread.run_sync(starts[index].wait)
        for index in (1, 0):  # the second thread goes idle first, then the first
            releases[index].set()
            await ended[index].wait()
    assert names[0] != names[1]
    assert (workers.threads, workers.idle) == (2, 2)
    for _ in range(3):
        assert await workers.run(lambda: threading.current_thread().name) == names[0]


async def test_j4_an_idle_thread_ends() -> None:
    workers = pool(idle_seconds=0.05)
    thread = await workers.run(threading.current_thread)
    deadline = time.monotonic() + 10
    while thread.is_alive() and time.monotonic() < deadline:
        await anyio.to_thread.run_sync(thread.join, 0.1)
    assert workers.threads == 0
    assert not thread.is_alive()
    # and the pool starts a new one when it is needed again
    assert await workers.run(lambda: 42) == 42
    assert workers.threads == 1


async def test_j4_a_pool_needs_a_thread_and_a_positive_idle_time() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        pool(limit=0)
    with pytest.raises(ValueError, match="idle_seconds"):
        pool(idle_seconds=0)


async def test_j4_a_plain_function_calls_back_into_the_loop_with_its_token() -> None:
    """What docs/agents.md tells a plain step function that needs the loop: the token."""
    token = anyio.lowlevel.current_token()

    async def on_the_loop() -> int:
        await checkpoint()
        return threading.get_ident()

    def fn() -> int:
        result: int = anyio.from_thread.run(on_the_loop, token=token)
        return result

    assert await run_in_worker(fn) == threading.get_ident()
