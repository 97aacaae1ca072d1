"""A recorded MCP tool call (T1) against a bare SDK call to the same server, in the same run.

Both call `web_search` on examples/mcp_search_server.py over stdio, one call after another, on
the same event loop (uvloop), each over a connection of its own to a server process of its own,
warmed by the same number of calls. actorflow's call is a step: the SDK call, then its result
committed in the journal before the handler goes on. So the baseline is the bare call plus one
commit, in the same loop: each call (with the same `_meta` idempotency key actorflow sends),
then a write + fsync in the same directory (what a step's commit costs at least), then the
next call.

The commit is paid between the calls, not measured apart and added: the server answers a
request that comes right after its last answer faster than one that comes a millisecond or two
later (measured here: ~0.6 ms back to back, ~3 ms after a 3 ms pause, whatever fills the
pause), so a back-to-back bare call plus a separately measured fsync is not what a call plus
a commit costs on this machine. The note gives the back-to-back bare call too.
"""

from __future__ import annotations

import os
import sys
import time
from functools import partial
from pathlib import Path

from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

import actorflow as af
from actorflow import mcp
from durable import FSYNC_BYTES, fsyncs_per_second, new_id, scratch_directory
from harness import Row, Sizes, alternate, at_most, expect

SERVER = Path(__file__).resolve().parent.parent / "examples" / "mcp_search_server.py"
WARMUP = 20

servers = mcp.Servers(search=mcp.StdioServer([sys.executable, str(SERVER)]))


class Calls(af.Message, tag="bench.mcp.Calls"):
    count: int


class Steps(af.Message, tag="bench.mcp.Steps"):
    count: int


async def nothing() -> str:
    return "Sources: user surveys and public case studies."


class Caller(af.Actor[None], kind="bench.mcp.Caller"):
    async def on_steps(self, msg: Steps) -> float:
        """Make `count` recorded steps that call nothing; the seconds they took."""
        start = time.perf_counter()
        for _ in range(msg.count):
            await self.ctx.step("nothing", nothing)
        return time.perf_counter() - start

    async def on_calls(self, msg: Calls) -> float:
        """Make `count` recorded calls; the seconds they took."""
        start = time.perf_counter()
        for n in range(msg.count):
            found = await servers.call(self.ctx, "search", "web_search", {"query": f"uses {n}"})
            expect("search result", found.text, "Sources: user surveys and public case studies.")
        return time.perf_counter() - start


async def recorded_call(directory: Path, count: int) -> float:
    """Microseconds per recorded call, from a durable actor over a SQLite journal."""
    path = directory / f"mcp-{time.monotonic_ns()}.db"
    async with af.ActorSystem(journal=path) as system:
        caller = await system.spawn(Caller, name="caller")
        await caller.ask(Calls(WARMUP), timeout=120)  # starts the server, lists its tools
        seconds = await caller.ask(Calls(count), timeout=600, expect=float)
    return seconds * 1e6 / count


async def empty_step(directory: Path, count: int) -> float:
    """Microseconds per recorded step that calls nothing: what recording costs by itself."""
    path = directory / f"steps-{time.monotonic_ns()}.db"
    async with af.ActorSystem(journal=path) as system:
        caller = await system.spawn(Caller, name="caller")
        await caller.ask(Steps(WARMUP), timeout=120)
        seconds = await caller.ask(Steps(count), timeout=600, expect=float)
    return seconds * 1e6 / count


async def bare_call(count: int) -> float:
    """Microseconds per call of the SDK's own client, back to back, nothing recorded."""
    params = StdioServerParameters(command=sys.executable, args=[str(SERVER)])
    async with Client(params, cache=None) as client:
        for n in range(WARMUP):
            await client.call_tool("web_search", {"query": f"uses {n}"})
        start = time.perf_counter()
        for n in range(count):
            await client.call_tool("web_search", {"query": f"uses {n}"})
        return (time.perf_counter() - start) * 1e6 / count


async def bare_call_and_commit(directory: Path, count: int) -> float:
    """Microseconds per bare SDK call followed by one write + fsync: the baseline.

    The request is shaped as actorflow's: the same arguments and an idempotency key of the
    same form in `_meta` (actorflow adds no ``traceparent`` when its system does not trace).
    """
    params = StdioServerParameters(command=sys.executable, args=[str(SERVER)])
    message_id = new_id()
    path = directory / f"commits-{new_id()}.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        async with Client(params, cache=None) as client:
            for n in range(WARMUP + count):
                if n == WARMUP:
                    start = time.perf_counter()
                key = f"{message_id}/mcp search/web_search#{n + 1}"
                await client.call_tool(
                    "web_search", {"query": f"uses {n}"}, meta={mcp.IDEMPOTENCY_KEY: key}
                )
                os.write(fd, FSYNC_BYTES)
                os.fsync(fd)
            return (time.perf_counter() - start) * 1e6 / count
    finally:
        os.close(fd)
        path.unlink()


async def mcp_call_overhead(sizes: Sizes) -> list[Row]:
    count = sizes.mcp_calls
    with scratch_directory() as directory:
        samples = await alternate(
            sizes.rounds,
            {
                "baseline": partial(bare_call_and_commit, directory, count),
                "recorded": partial(recorded_call, directory, count),
                "bare": partial(bare_call, count),
                "fsync": partial(fsyncs_per_second, directory, sizes.fsyncs),
                "step": partial(empty_step, directory, count),
            },
        )
    baseline = min(samples["baseline"])
    bare = min(samples["bare"])
    commit = 1e6 / max(samples["fsync"])
    recorded = min(samples["recorded"])
    step = min(samples["step"])
    note = (
        f"{count:,} sequential calls of a read-only tool over stdio; baseline: the bare SDK"
        f" call, then one write+fsync, in one loop; apart, a bare call back to back costs"
        f" {bare:.0f} us and a write+fsync {commit:.0f} us (sum {bare + commit:.0f}); a"
        f" recorded step that calls nothing costs {step:.0f} us here; best of {sizes.rounds}"
    )
    return [Row("mcp_call_overhead", recorded, "us/call", at_most(1.2), baseline, note=note)]
