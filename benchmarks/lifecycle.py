"""Lifecycle benchmarks: what it costs to spawn an actor, and to restart one after a failure."""

from __future__ import annotations

import asyncio
import statistics
from functools import partial

import tenacity

import actorflow as af
from harness import Row, Sizes, alternate, expect, now_ns
from workloads import Counter, Fail, Flaky, Ping, start_raw_actor, stop_tasks

SPAWN_WARMUP = 50
RESTART_WARMUP = 10

# -- spawn -------------------------------------------------------------------------------------


async def spawn_cost(sizes: Sizes) -> list[Row]:
    """Microseconds per ``await system.spawn(Counter)``, averaged over `sizes.spawns` spawns."""
    samples = await alternate(
        sizes.rounds,
        {
            "raw": partial(raw_spawn, sizes.spawns),
            "actorflow": partial(actorflow_spawn, sizes.spawns),
        },
    )
    return [
        Row(
            "spawn_cost",
            min(samples["actorflow"]),
            "us",
            baseline=min(samples["raw"]),
            note="baseline: create a queue and a consumer task, wait until it runs",
        )
    ]


async def actorflow_spawn(count: int) -> float:
    async with af.ActorSystem() as system:
        for _ in range(SPAWN_WARMUP):
            await system.spawn(Counter)
        start = now_ns()
        for _ in range(count):
            await system.spawn(Counter)
        elapsed = now_ns() - start
        expect("actors spawned", len(system.actors()), SPAWN_WARMUP + count)
    return elapsed / count / 1_000


async def raw_spawn(count: int) -> float:
    """The asyncio floor of a spawn: a mailbox queue and a task, awaited until it is running."""
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[None]] = []
    try:
        for _ in range(SPAWN_WARMUP):
            await start_raw_actor(loop, tasks)
        start = now_ns()
        for _ in range(count):
            await start_raw_actor(loop, tasks)
        elapsed = now_ns() - start
    finally:
        await stop_tasks(tasks)
    return elapsed / count / 1_000


# -- restart -----------------------------------------------------------------------------------


async def restart_cost(sizes: Sizes) -> list[Row]:
    """From a failing handler to the restarted actor's reply, with no backoff.

    Each sample is ``tell(Fail())`` then ``ask(Ping)``: the handler raises, the message is
    dead-lettered at once (``max_attempts=1``), the root supervisor restarts the actor, and the
    fresh instance answers the ask. The baseline is the same pair with a Ping in place of the
    Fail, on the same actor, interleaved with the restarts.
    """
    restarts: list[float] = []
    normal: list[float] = []
    for _ in range(sizes.rounds):
        with_restart, without = await actorflow_restart(sizes.restarts)
        restarts.append(with_restart)
        normal.append(without)
    return [
        Row(
            "restart_cost",
            min(restarts),
            "us",
            baseline=min(normal),
            note="median; baseline: tell(Ping) + ask(Ping) without a failure",
        )
    ]


async def actorflow_restart(count: int) -> tuple[float, float]:
    """Median us of a tell(Fail) + ask round trip, and of a tell(Ping) + ask one."""
    root = af.Supervisor(
        name="root", backoff=tenacity.wait_none(), max_restarts=1_000_000, within=1.0
    )
    async with af.ActorSystem(root=root) as system:
        ref = await system.spawn(Flaky, max_attempts=1)
        fail, ping = Fail(), Ping(1)
        for _ in range(RESTART_WARMUP):
            await ref.tell(fail)
            await ref.ask(ping)
        restarts: list[int] = []
        normal: list[int] = []
        for _ in range(count):
            start = now_ns()
            await ref.tell(fail)
            await ref.ask(ping)
            restarts.append(now_ns() - start)
            start = now_ns()
            await ref.tell(ping)
            await ref.ask(ping)
            normal.append(now_ns() - start)
        stats = ref.statistics()
    expect("restarts", stats.restarts, RESTART_WARMUP + count)
    expect("dead letters", stats.dead_letters, RESTART_WARMUP + count)
    return statistics.median(restarts) / 1_000, statistics.median(normal) / 1_000
