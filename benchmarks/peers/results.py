"""What a measurement gives back: numbers for one system, or why there are none."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

now_ns = time.perf_counter_ns

NOT_INSTALLED = Path(sys.prefix) / "not-installed.txt"
"""Peers whose ``pip install`` failed in ``make bench-peers`` (in ``.venv-peers``), one a line.

Each one's pip output is beside it, in ``pip-<name>.log``.
"""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One system's figures for one workload, or the reason it has none (`problem`)."""

    system: str
    metrics: dict[str, float] = field(default_factory=dict)
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class CrashOutcome:
    """What a durable system did when killed in the middle of a workflow and started again."""

    system: str
    completed: bool | None = None
    executions: int | None = None
    repeated: list[int] = field(default_factory=list)
    problem: str | None = None


LOWER_IS_BETTER = frozenset({"p50 us", "p50 step us", "p50 workflow ms"})
"""Metrics where the smaller figure is the better one; for all others, the larger."""


def better(first: Outcome, second: Outcome) -> Outcome:
    """Per metric, the better of two rounds' figures for the same system."""
    metrics = {
        name: (min if name in LOWER_IS_BETTER else max)(value, second.metrics[name])
        for name, value in first.metrics.items()
    }
    return Outcome(first.system, metrics)


def unavailable(distribution: str, error: ImportError) -> str:
    """Why `distribution` cannot be measured: its install failed, or it does not import."""
    if NOT_INSTALLED.exists() and distribution in NOT_INSTALLED.read_text().split():
        log = NOT_INSTALLED.parent / f"pip-{distribution}.log"
        lines = log.read_text().strip().splitlines() if log.exists() else []
        reason = lines[-1] if lines else "pip install failed"
        return f"not installable: {reason}"
    return f"not importable: {error}"


def failure(error: BaseException) -> str:
    """A one-line account of a peer that raised while it was measured."""
    where = traceback.extract_tb(error.__traceback__)
    place = f" (at {Path(where[-1].filename).name}:{where[-1].lineno})" if where else ""
    return f"failed: {type(error).__name__}: {error}{place}".replace("\n", " ")


def guarded(system: str, distribution: str | None, measure: Callable[[], Outcome]) -> Outcome:
    """Run `measure`; an import or run-time failure becomes an `Outcome` with a problem."""
    try:
        return measure()
    except ImportError as error:
        return Outcome(system, problem=unavailable(distribution or system, error))
    except Exception as error:
        return Outcome(system, problem=failure(error))
