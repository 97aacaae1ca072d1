"""Memory per idle actor, each measurement in a fresh interpreter.

A fresh process per measurement keeps the heap that earlier benchmarks freed (and the allocator
kept) from absorbing the growth, which would make the RSS numbers meaningless. Run as a script,
this module is that probe::

    python benchmarks/memory.py {actorflow|raw} {tracemalloc|rss} COUNT

It spawns COUNT idle actors (or, for ``raw``, COUNT bounded queues each with a consumer task
waiting on it) and prints the growth in bytes per actor.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import resource
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeAlias

import uvloop

import actorflow as af
from harness import Row, Sizes, expect
from workloads import Counter, start_raw_actor, stop_tasks

Kind: TypeAlias = Literal["actorflow", "raw"]
Method: TypeAlias = Literal["tracemalloc", "rss"]

PROBE_WARMUP = 50
"""Actors started before measuring, so that one-time costs (caches, code paths) are not counted."""


async def idle_actor_memory(sizes: Sizes) -> list[Row]:
    count = sizes.idle_actors
    tracemalloc_note = (
        f"tracemalloc bytes per actor over {count:,} idle actors;"
        " baseline: an idle asyncio.Queue + consumer task"
    )
    rss_note = f"RSS growth per actor over {count:,} idle actors; same baseline"
    return [
        Row(
            "idle_actor_memory",
            await probe("actorflow", "tracemalloc", count),
            "bytes",
            baseline=await probe("raw", "tracemalloc", count),
            note=tracemalloc_note,
        ),
        Row(
            "idle_actor_memory_rss",
            await probe("actorflow", "rss", count),
            "bytes",
            baseline=await probe("raw", "rss", count),
            note=rss_note,
        ),
    ]


async def probe(kind: Kind, method: Method, count: int) -> float:
    """Run this module as a script in a new interpreter and return the bytes per actor it found."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, kind, method, str(count), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"memory probe {kind} {method} {count} exited {process.returncode}")
    return float(out)


# -- the probe (in its own process) ------------------------------------------------------------


def rss_bytes(pid: int | str = "self") -> int:
    """The resident set size of this process (or of process `pid`) now, or this process's peak
    where /proc is missing (it only grows here)."""
    statm = Path(f"/proc/{pid}/statm")
    if statm.exists():
        return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def traced_bytes() -> int:
    return tracemalloc.get_traced_memory()[0]


async def measure_actorflow(count: int, sample: Callable[[], int]) -> float:
    """Bytes per idle actor: `sample()` before and after spawning `count` of them."""
    async with af.ActorSystem() as system:
        for _ in range(PROBE_WARMUP):
            await system.spawn(Counter)
        await system.wait_idle()
        gc.collect()
        before = sample()
        for _ in range(count):
            await system.spawn(Counter)
        await system.wait_idle()
        gc.collect()
        after = sample()
        expect("idle actors", len(system.actors()), PROBE_WARMUP + count)
    return (after - before) / count


async def measure_raw(count: int, sample: Callable[[], int]) -> float:
    """Bytes per idle queue + consumer task: `sample()` before and after starting `count`."""
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[None]] = []
    for _ in range(PROBE_WARMUP):
        await start_raw_actor(loop, tasks)
    gc.collect()
    before = sample()
    for _ in range(count):
        await start_raw_actor(loop, tasks)
    gc.collect()
    after = sample()
    await stop_tasks(tasks)
    return (after - before) / count


MEASURES = {"actorflow": measure_actorflow, "raw": measure_raw}
SAMPLERS = {"tracemalloc": traced_bytes, "rss": rss_bytes}


def main(argv: list[str]) -> None:
    kind, method, count = argv
    if kind not in MEASURES or method not in SAMPLERS:
        raise SystemExit(f"usage: {Path(__file__).name} {{actorflow|raw}} {{tracemalloc|rss}} N")
    logging.getLogger("actorflow").setLevel(logging.CRITICAL)
    if method == "tracemalloc":
        tracemalloc.start()
    print(uvloop.run(MEASURES[kind](int(count), SAMPLERS[method])))


if __name__ == "__main__":
    main(sys.argv[1:])
