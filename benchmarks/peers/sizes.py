"""How much work each peer workload does, for a full run and for ``--quick``."""

from __future__ import annotations

from dataclasses import dataclass

WARMUP = 1_000
"""Tells (or asks) handled before an in-memory measurement starts, in every round."""

STEPS = 10
"""Steps in one durable workflow: each is persisted before the next one starts."""

CONCURRENCY = 100
"""Workflows in flight at once in the concurrent durable workload (actors, or threads)."""


@dataclass(frozen=True, slots=True)
class Sizes:
    """Work per measurement; `FULL` keeps ``make bench-peers`` under about 5 minutes on 2 cores."""

    rounds: int
    tells: int
    asks: int
    workflows: int
    warmup_workflows: int
    concurrent_workflows: int
    """Timed workflows per worker (actor or thread) in the concurrent durable workload."""
    concurrent_warmup: int
    """Warm-up workflows per worker there, before the clock starts."""


FULL = Sizes(
    rounds=3,
    tells=100_000,
    asks=10_000,
    workflows=50,
    warmup_workflows=3,
    concurrent_workflows=3,
    concurrent_warmup=1,
)
QUICK = Sizes(
    rounds=1,
    tells=20_000,
    asks=2_000,
    workflows=10,
    warmup_workflows=1,
    concurrent_workflows=1,
    concurrent_warmup=1,
)
