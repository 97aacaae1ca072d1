"""The benchmark harness: run sizes, targets, result rows, and rounds that alternate contenders."""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

now_ns = time.perf_counter_ns

WARMUP = 1_000
"""Messages (or asks, spawns, restarts) handled before a measurement starts, in every round."""


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much work each benchmark does; `QUICK` keeps the whole run under 30 s on 2 cores."""

    rounds: int
    messages: int
    asks: int
    spawns: int
    idle_actors: int
    restarts: int
    durable_actors: int
    durable_messages: int
    durable_tells: int
    many_senders_tells: int
    fsyncs: int
    recovery_done: int
    recovery_pending: int
    recovery_actors: int
    conversations: int
    pickups: int
    fallback_pickups: int
    chain_messages: int
    ui_messages: int
    replay_messages: int
    mcp_calls: int


FULL = Sizes(
    rounds=5,
    messages=200_000,
    asks=20_000,
    spawns=2_000,
    idle_actors=10_000,
    restarts=200,
    durable_actors=1_000,
    durable_messages=100_000,
    durable_tells=10_000,
    many_senders_tells=10_000,
    fsyncs=2_000,
    recovery_done=1_000_000,
    recovery_pending=10_000,
    recovery_actors=10_000,
    conversations=100_000,
    pickups=50,
    fallback_pickups=20,
    chain_messages=5_000,
    ui_messages=1_000_000,
    replay_messages=1_000,
    mcp_calls=2_000,
)
QUICK = Sizes(
    rounds=3,
    messages=50_000,
    asks=5_000,
    spawns=500,
    idle_actors=2_000,
    restarts=50,
    durable_actors=1_000,
    durable_messages=20_000,
    durable_tells=2_000,
    many_senders_tells=1_000,
    fsyncs=2_000,
    recovery_done=100_000,
    recovery_pending=1_000,
    recovery_actors=1_000,
    conversations=10_000,
    pickups=10,
    fallback_pickups=3,
    chain_messages=5_000,
    ui_messages=100_000,
    replay_messages=1_000,
    mcp_calls=300,
)


@dataclass(frozen=True, slots=True)
class Target:
    """What a row should reach: ``>= bound``, ``<= bound``, or nothing (``report``).

    An `absolute` target applies to the row's value even when the row has a baseline (whose
    ratio is then only reported); it prints as ``>= 10000 (value)``.
    """

    op: Literal[">=", "<=", "report"]
    bound: float = 0.0
    absolute: bool = False

    def __str__(self) -> str:
        if self.op == "report":
            return "report"
        return f"{self.op} {self.bound}" + (" (value)" if self.absolute else "")

    def check(self, measured: float | None) -> bool | None:
        """Whether `measured` meets the target; None when there is no target or no measurement."""
        if self.op == "report" or measured is None:
            return None
        return measured >= self.bound if self.op == ">=" else measured <= self.bound


REPORT = Target("report")


def at_least(bound: float, *, absolute: bool = False) -> Target:
    return Target(">=", bound, absolute)


def at_most(bound: float) -> Target:
    return Target("<=", bound)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the report.

    The target is checked against the ratio (actorflow / baseline) when the row has a baseline,
    and against the value itself when it has none or when the target is `absolute`.
    """

    name: str
    value: float | None
    unit: str
    target: Target = REPORT
    baseline: float | None = None
    note: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        on_value = self.baseline is None or self.target.absolute
        return self.target.check(self.value if on_value else self.ratio)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "value": _rounded(self.value),
            "unit": self.unit,
            "baseline": _rounded(self.baseline),
            "ratio": _rounded(self.ratio),
            "target": str(self.target),
            "met": self.met,
            "note": self.note,
        }


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


async def alternate(
    rounds: int, contenders: Mapping[str, Callable[[], Awaitable[float]]]
) -> dict[str, list[float]]:
    """Run every contender once per round and return each one's samples, in round order.

    The starting contender rotates from round to round, so that a noisy stretch of the machine
    (or a warm cache left by the one before) does not always land on the same contender.
    """
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            samples[name].append(await contenders[name]())
    return samples


def per_second(count: int, elapsed_ns: int) -> float:
    return count * 1e9 / elapsed_ns


def expect(what: str, got: object, wanted: object) -> None:
    """Fail the run loudly if a benchmark did not do the work it claims to have timed."""
    if got != wanted:
        raise RuntimeError(f"{what}: got {got!r}, expected {wanted!r}")
