"""Messaging benchmarks: tell throughput (vs a raw queue and Pykka), ask latency and throughput."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable
from functools import partial
from typing import Any

import actorflow as af
from harness import (
    REPORT,
    WARMUP,
    Row,
    Sizes,
    alternate,
    at_least,
    at_most,
    expect,
    now_ns,
    per_second,
)
from workloads import (
    MAILBOX_SIZE,
    AsyncCounter,
    Count,
    Counter,
    Ping,
    RawCounter,
    stop_tasks,
)

try:
    from pykka_tell import pykka_tell
except ImportError as exc:
    PYKKA_MISSING: str | None = f"pykka is not importable ({exc}); `pip install pykka` to compare"
    pykka_tell = None
else:
    PYKKA_MISSING = None

# -- tell --------------------------------------------------------------------------------------


async def tell_throughput(sizes: Sizes) -> list[Row]:
    """One actor, `sizes.messages` tells in a loop, timed until the last one is handled."""
    count = sizes.messages
    contenders = {
        "raw": partial(raw_tell, count, is_async=False),
        "actorflow": partial(actorflow_tell, Counter, count),
        "raw async": partial(raw_tell, count, is_async=True),
        "actorflow async": partial(actorflow_tell, AsyncCounter, count),
    }
    if pykka_tell is not None:
        contenders["pykka"] = partial(asyncio.to_thread, pykka_tell, count)
    samples = await alternate(sizes.rounds, contenders)
    best = {name: max(values) for name, values in samples.items()}

    rows = [
        Row("tell_throughput", best["actorflow"], "msg/s", at_least(0.5), best["raw"]),
        Row(
            "tell_throughput_async_handler",
            best["actorflow async"],
            "msg/s",
            REPORT,
            best["raw async"],
            note="baseline: the raw consumer awaits an async handler too",
        ),
    ]
    if pykka_tell is None:
        rows += [
            Row("tell_throughput_pykka", None, "msg/s", note=PYKKA_MISSING),
            Row("tell_vs_pykka", None, "x", at_least(1.5), note=PYKKA_MISSING),
        ]
    else:
        rows += [
            Row("tell_throughput_pykka", best["pykka"], "msg/s", note="pykka ThreadingActor"),
            Row(
                "tell_vs_pykka",
                best["actorflow"] / best["pykka"],
                "x",
                at_least(1.5),
                note="tell_throughput / tell_throughput_pykka",
            ),
        ]
    return rows


async def actorflow_tell(actor: type[Counter | AsyncCounter], count: int) -> float:
    """Messages per second through ``await ref.tell(msg)``, synced at the end with an ask."""
    async with af.ActorSystem() as system:
        ref = await system.spawn(actor)
        msg = Ping(1)
        for _ in range(WARMUP):
            await ref.tell(msg)
        await ref.ask(Count())
        start = now_ns()
        for _ in range(count):
            await ref.tell(msg)
        handled = await ref.ask(Count())
        elapsed = now_ns() - start
    expect("actorflow Pings handled", handled, WARMUP + count)
    return per_second(count, elapsed)


async def raw_tell(count: int, *, is_async: bool) -> float:
    """The same through a bounded `asyncio.Queue` and a consumer task: the floor to compare to."""
    queue: asyncio.Queue[Ping | asyncio.Future[int]] = asyncio.Queue(maxsize=MAILBOX_SIZE)
    counter = RawCounter()
    handler = counter.on_ping_async if is_async else counter.on_ping
    consumer = asyncio.create_task(_count_pings(queue, counter, handler, is_async))
    try:
        msg = Ping(1)
        for _ in range(WARMUP):
            await queue.put(msg)
        await _sync(queue)
        start = now_ns()
        for _ in range(count):
            await queue.put(msg)
        handled = await _sync(queue)
        elapsed = now_ns() - start
    finally:
        await stop_tasks([consumer])
    expect("raw Pings handled", handled, WARMUP + count)
    return per_second(count, elapsed)


async def _count_pings(
    queue: asyncio.Queue[Ping | asyncio.Future[int]],
    counter: RawCounter,
    handler: Callable[[Ping], Any],
    is_async: bool,
) -> None:
    while True:
        item = await queue.get()
        if type(item) is Ping:
            result = handler(item)
            if is_async:
                await result
        else:
            item.set_result(counter.count)


async def _sync(queue: asyncio.Queue[Ping | asyncio.Future[int]]) -> int:
    """Queue a future behind everything sent so far; the consumer answers with its count."""
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    await queue.put(done)
    return await done


# -- ask ---------------------------------------------------------------------------------------


async def ask_latency(sizes: Sizes) -> list[Row]:
    """Sequential asks: the median round trip against a raw queue + future, and asks per second."""
    count = sizes.asks
    samples = await alternate(
        sizes.rounds,
        {
            "raw": partial(raw_ask_p50, count),
            "actorflow": partial(actorflow_ask_p50, count),
            "throughput": partial(actorflow_ask_rate, count),
        },
    )
    return [
        Row("ask_latency", min(samples["actorflow"]), "us", at_most(2.0), min(samples["raw"])),
        Row("ask_throughput", max(samples["throughput"]), "asks/s", at_least(150_000)),
    ]


async def actorflow_ask_p50(count: int) -> float:
    """The median of `count` ``await ref.ask(msg)`` round trips, one after another, in us."""
    async with af.ActorSystem() as system:
        ref = await system.spawn(Counter)
        msg = Ping(1)
        for _ in range(WARMUP):
            await ref.ask(msg)
        times = []
        for _ in range(count):
            start = now_ns()
            await ref.ask(msg)
            times.append(now_ns() - start)
    return statistics.median(times) / 1_000


async def actorflow_ask_rate(count: int) -> float:
    """Asks per second, one after another (without a clock read per ask)."""
    async with af.ActorSystem() as system:
        ref = await system.spawn(Counter)
        msg = Ping(1)
        for _ in range(WARMUP):
            await ref.ask(msg)
        start = now_ns()
        for _ in range(count):
            await ref.ask(msg)
        elapsed = now_ns() - start
    return per_second(count, elapsed)


async def raw_ask_p50(count: int) -> float:
    """The same round trip through an `asyncio.Queue` to a consumer that sets a future."""
    queue: asyncio.Queue[tuple[Ping, asyncio.Future[int]]] = asyncio.Queue(maxsize=MAILBOX_SIZE)
    server = asyncio.create_task(_answer_pings(queue))
    loop = asyncio.get_running_loop()
    try:
        msg = Ping(1)
        for _ in range(WARMUP):
            reply = loop.create_future()
            await queue.put((msg, reply))
            await reply
        times = []
        for _ in range(count):
            start = now_ns()
            reply = loop.create_future()
            await queue.put((msg, reply))
            await reply
            times.append(now_ns() - start)
    finally:
        await stop_tasks([server])
    return statistics.median(times) / 1_000


async def _answer_pings(queue: asyncio.Queue[tuple[Ping, asyncio.Future[int]]]) -> None:
    counter = RawCounter()
    while True:
        msg, reply = await queue.get()
        reply.set_result(counter.on_ping(msg))
