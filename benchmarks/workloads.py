"""The messages and actors the benchmarks use, and the plain-asyncio counterparts of the actors."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import actorflow as af

MAILBOX_SIZE = af.DEFAULT_MAILBOX_SIZE
"""Raw baselines use a queue of the same capacity as an actor's default mailbox."""


class Ping(af.Message):
    """The small message every benchmark sends; the reply to an ask is its `n`."""

    n: int


class Count(af.Message):
    """Asks how many Pings the actor has handled (and, being queued last, syncs with it)."""


class Fail(af.Message):
    """Makes the handler raise, so that the supervisor restarts the actor."""


class Counter(af.Actor[None]):
    """Counts Pings with a plain ``def`` handler."""

    def __init__(self) -> None:
        self.count = 0

    def on_ping(self, msg: Ping) -> int:
        self.count += 1
        return msg.n

    def on_count(self, msg: Count) -> int:
        return self.count


class AsyncCounter(af.Actor[None]):
    """Counts Pings with an ``async def`` handler."""

    def __init__(self) -> None:
        self.count = 0

    async def on_ping(self, msg: Ping) -> int:
        self.count += 1
        return msg.n

    def on_count(self, msg: Count) -> int:
        return self.count


class Flaky(Counter):
    """A Counter whose handler for `Fail` raises."""

    def on_fail(self, msg: Fail) -> None:
        raise RuntimeError("planned failure")


class RawCounter:
    """The counting work of `Counter` and `AsyncCounter`, for the plain-asyncio baselines."""

    def __init__(self) -> None:
        self.count = 0

    def on_ping(self, msg: Ping) -> int:
        self.count += 1
        return msg.n

    async def on_ping_async(self, msg: Ping) -> int:
        self.count += 1
        return msg.n


async def start_raw_actor(loop: asyncio.AbstractEventLoop, tasks: list[asyncio.Task[None]]) -> None:
    """Start the plain-asyncio counterpart of an idle actor: a bounded queue and a consumer task.

    Returns once the task runs (as ``spawn`` does once ``on_start`` returned); appends it to
    `tasks`.
    """
    started: asyncio.Future[None] = loop.create_future()
    queue: asyncio.Queue[Ping] = asyncio.Queue(maxsize=MAILBOX_SIZE)
    tasks.append(asyncio.create_task(_raw_actor(queue, started)))
    await started


async def _raw_actor(queue: asyncio.Queue[Ping], started: asyncio.Future[None]) -> None:
    started.set_result(None)
    counter = RawCounter()
    while True:
        counter.on_ping(await queue.get())


async def stop_tasks(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Cancel a baseline's consumer tasks and wait until they have ended."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
