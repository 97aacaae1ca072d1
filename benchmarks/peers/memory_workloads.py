"""In-memory messaging on each system: tell throughput, and the ask round trip.

Every contender does the same work: an actor (or a consumer task) counts `Ping` messages and
answers a `Count` with how many it has handled. The tell workload sends `count` Pings one after
another and then asks for the count, so the clock stops only once every Ping was handled. The
ask workload sends `count` asks one after another and times each round trip.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import uvloop

import actorflow as af

from ..workloads import Count, Counter, Ping  # the actor `make bench` measures too
from .results import Outcome, better, guarded, now_ns
from .sizes import WARMUP, Sizes
from .threaded_peers import pykka_ask, pykka_tell, thespian_ask, thespian_tell

PING = Ping(1)
COUNT = Count()


@dataclass(frozen=True, slots=True)
class Contender:
    """One system's way of running both workloads; blocking calls, each on a fresh setup."""

    system: str
    distribution: str | None
    tell: Callable[[int], float]
    """Messages per second for `count` tells."""
    ask: Callable[[int], tuple[float, float]]
    """The median round trip in us and asks per second, for `count` asks."""


def check_handled(system: str, handled: object, wanted: int) -> None:
    """Fail loudly when a contender did not do the work it was timed for."""
    if handled != wanted:
        raise RuntimeError(f"{system} handled {handled!r} Pings, expected {wanted}")


# -- actorflow ---------------------------------------------------------------------------------


async def _actorflow_tell(count: int) -> float:
    async with af.ActorSystem() as system:
        ref = await system.spawn(Counter)
        for _ in range(WARMUP):
            await ref.tell(PING)
        await ref.ask(COUNT)
        start = now_ns()
        for _ in range(count):
            await ref.tell(PING)
        handled = await ref.ask(COUNT)
        elapsed = now_ns() - start
    check_handled("actorflow", handled, WARMUP + count)
    return count * 1e9 / elapsed


async def _actorflow_ask(count: int) -> tuple[float, float]:
    async with af.ActorSystem() as system:
        ref = await system.spawn(Counter)
        for _ in range(WARMUP):
            await ref.ask(PING)
        times: list[int] = []
        start = now_ns()
        for _ in range(count):
            sent = now_ns()
            await ref.ask(PING)
            times.append(now_ns() - sent)
        elapsed = now_ns() - start
    return statistics.median(times) / 1_000, count * 1e9 / elapsed


# -- raw asyncio: a bounded queue and a consumer task ------------------------------------------


async def _raw_tell(count: int) -> float:
    queue: asyncio.Queue[Ping | asyncio.Future[int]] = asyncio.Queue(af.DEFAULT_MAILBOX_SIZE)
    consumer = asyncio.create_task(_count_pings(queue))
    try:
        for _ in range(WARMUP):
            await queue.put(PING)
        await _raw_count(queue)
        start = now_ns()
        for _ in range(count):
            await queue.put(PING)
        handled = await _raw_count(queue)
        elapsed = now_ns() - start
    finally:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
    check_handled("raw asyncio", handled, WARMUP + count)
    return count * 1e9 / elapsed


async def _count_pings(queue: asyncio.Queue[Ping | asyncio.Future[int]]) -> None:
    handled = 0
    while True:
        item = await queue.get()
        if type(item) is Ping:
            handled += 1
        else:
            item.set_result(handled)


async def _raw_count(queue: asyncio.Queue[Ping | asyncio.Future[int]]) -> int:
    reply: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    await queue.put(reply)
    return await reply


async def _raw_ask(count: int) -> tuple[float, float]:
    queue: asyncio.Queue[tuple[Ping, asyncio.Future[int]]] = asyncio.Queue(af.DEFAULT_MAILBOX_SIZE)
    server = asyncio.create_task(_answer_pings(queue))
    loop = asyncio.get_running_loop()
    try:
        for _ in range(WARMUP):
            reply: asyncio.Future[int] = loop.create_future()
            await queue.put((PING, reply))
            await reply
        times: list[int] = []
        start = now_ns()
        for _ in range(count):
            sent = now_ns()
            reply = loop.create_future()
            await queue.put((PING, reply))
            await reply
            times.append(now_ns() - sent)
        elapsed = now_ns() - start
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
    return statistics.median(times) / 1_000, count * 1e9 / elapsed


async def _answer_pings(queue: asyncio.Queue[tuple[Ping, asyncio.Future[int]]]) -> None:
    while True:
        msg, reply = await queue.get()
        reply.set_result(msg.n)


def _on_uvloop(coroutine: Callable[[int], Any]) -> Callable[[int], Any]:
    """A blocking call that runs `coroutine(count)` on a fresh uvloop event loop."""

    def run(count: int) -> Any:
        return uvloop.run(coroutine(count))

    return run


CONTENDERS: Sequence[Contender] = (
    Contender("actorflow", "actorflow", _on_uvloop(_actorflow_tell), _on_uvloop(_actorflow_ask)),
    Contender("raw asyncio", None, _on_uvloop(_raw_tell), _on_uvloop(_raw_ask)),
    Contender("Pykka", "pykka", lambda n: pykka_tell(n, PING, COUNT), lambda n: pykka_ask(n, PING)),
    Contender(
        "Thespian",
        "thespian",
        lambda n: thespian_tell(n, PING, COUNT),
        lambda n: thespian_ask(n, PING),
    ),
)


# -- rounds ------------------------------------------------------------------------------------

ASK_METRICS = ("p50 us", "asks/s")


def tell_throughput(sizes: Sizes) -> list[Outcome]:
    """msg/s of `sizes.tells` tells then one ask, for every contender."""
    return best_of(sizes.rounds, lambda c: {"msg/s": c.tell(sizes.tells)})


def ask_round_trip(sizes: Sizes) -> list[Outcome]:
    """The median round trip (us) and asks/s of `sizes.asks` asks, for every contender."""
    return best_of(sizes.rounds, lambda c: dict(zip(ASK_METRICS, c.ask(sizes.asks), strict=True)))


def best_of(rounds: int, measure: Callable[[Contender], dict[str, float]]) -> list[Outcome]:
    """Each contender's best figures over `rounds` rounds; who goes first rotates per round.

    A contender that fails (or cannot be imported) keeps that problem and is not run again.
    """
    results: dict[str, Outcome] = {}
    for index in range(rounds):
        shift = index % len(CONTENDERS)
        for contender in [*CONTENDERS[shift:], *CONTENDERS[:shift]]:
            previous = results.get(contender.system)
            if previous is not None and previous.problem is not None:
                continue
            gc.collect()
            outcome = guarded(
                contender.system,
                contender.distribution,
                partial(_measured, contender, measure),
            )
            results[contender.system] = (
                outcome if previous is None or outcome.problem else better(previous, outcome)
            )
    return [results[contender.system] for contender in CONTENDERS]


def _measured(contender: Contender, measure: Callable[[Contender], dict[str, float]]) -> Outcome:
    return Outcome(contender.system, measure(contender))
