"""Evals (R1): a directory of bundles replayed as a suite and scored by the user's scorer,
compared with a saved baseline (regressions first).

A scorer is a callable ``score(recorded: Recording, replayed: Replay) -> dict[str, float]``
(or a coroutine function returning one): named scores, higher is better. The total of a score
is its mean over the bundles that have it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeAlias

import anyio.to_thread
import msgspec

from .._errors import ReplayError
from ._bundle import read_bundle
from ._engine import Engine
from ._recording import Recording
from ._report import Mode, Replay

__all__ = ["BundleScores", "Regression", "Scorer", "SuiteResult", "load_baseline", "run_suite"]

Scorer: TypeAlias = Callable[[Recording, Replay], "dict[str, float] | Awaitable[dict[str, float]]"]


class BundleScores(msgspec.Struct, gc=False):
    """One bundle's row: its scores, how many of its turns ran and diverged, or its error."""

    scores: dict[str, float] = {}
    turns: int = 0
    diverged: int = 0
    error: str | None = None


class Regression(msgspec.Struct, frozen=True, gc=False):
    """A score lower than the baseline's (or missing now): `bundle` is ``"total"`` for the
    suite's mean."""

    bundle: str
    score: str
    baseline: float
    now: float | None


class SuiteResult(msgspec.Struct, gc=False):
    """A suite's scores per bundle (by file name) and in total, and its regressions."""

    bundles: dict[str, BundleScores]
    total: dict[str, float]
    regressions: list[Regression] = []

    def to_json(self) -> bytes:
        return msgspec.json.encode(self)


async def run_suite(
    directory: Path,
    scorer: Scorer,
    *,
    live: Iterable[str] = (),
    fork_at: str | None = None,
    baseline: SuiteResult | None = None,
) -> SuiteResult:
    """Replay every ``*.bundle`` in `directory` (in name order), score each, and compare with
    `baseline`. A bundle that cannot be replayed gets its error in its row, not a score.

    Raises `ReplayError` for a directory without bundles, a bad bundle, or a scorer that
    raises or returns something other than named numbers.
    """
    bundles = await anyio.to_thread.run_sync(_read_all, directory)
    names = frozenset(live)
    mode: Mode = "live" if names else "fork" if fork_at is not None else "strict"
    rows: dict[str, BundleScores] = {}
    for path, recording in bundles:
        try:
            report = await Engine(recording, mode=mode, live=names, fork_at=fork_at).run()
        except ReplayError as exc:
            partial = exc.report if isinstance(exc.report, Replay) else None
            rows[path.name] = BundleScores(
                turns=0 if partial is None else len(partial.turns), error=str(exc)
            )
            continue
        scores = await _score(scorer, recording, report, path)
        diverged = sum(1 for t in report.turns if t.divergences)
        rows[path.name] = BundleScores(scores, len(report.turns), diverged)
    total = _means(rows.values())
    result = SuiteResult(rows, total)
    if baseline is not None:
        result.regressions = _regressions(result, baseline)
    return result


def _read_all(directory: Path) -> list[tuple[Path, Recording]]:
    if not directory.is_dir():
        raise ReplayError(f"no directory {directory}")
    paths = sorted(directory.glob("*.bundle"))
    if not paths:
        raise ReplayError(f"no *.bundle files in {directory}")
    return [(path, read_bundle(path)) for path in paths]


def load_baseline(path: Path) -> SuiteResult:
    """Read a suite result saved with ``--save`` (its JSON); `ReplayError` if it is not one."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=SuiteResult)
    except FileNotFoundError:
        raise ReplayError(f"no baseline at {path}") from None
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ReplayError(f"{path} is not a saved suite result: {exc}") from exc


async def _score(
    scorer: Scorer, recording: Recording, report: Replay, path: Path
) -> dict[str, float]:
    try:
        scores: Any = scorer(recording, report)
        if inspect.isawaitable(scores):
            scores = await scores
    except Exception as exc:
        raise ReplayError(f"the scorer raised {type(exc).__name__} on {path.name}: {exc}") from exc
    if not isinstance(scores, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
        for k, v in scores.items()
    ):
        raise ReplayError(
            f"the scorer returned {scores!r:.80} on {path.name}; it must return named numbers,"
            " a dict[str, float]"
        )
    return {k: float(v) for k, v in scores.items()}


def _means(rows: Iterable[BundleScores]) -> dict[str, float]:
    sums: dict[str, list[float]] = {}
    for row in rows:
        for name, value in row.scores.items():
            sums.setdefault(name, []).append(value)
    return {name: math.fsum(values) / len(values) for name, values in sorted(sums.items())}


def _regressions(now: SuiteResult, baseline: SuiteResult) -> list[Regression]:
    found: list[Regression] = []
    pairs = [(name, row.scores) for name, row in baseline.bundles.items()]
    for bundle, scores in [*pairs, ("total", baseline.total)]:
        current = now.total if bundle == "total" else _scores_of(now, bundle)
        for score, before in sorted(scores.items()):
            value = None if current is None else current.get(score)
            if value is None or value < before:
                found.append(Regression(bundle, score, before, value))
    return found


def _scores_of(result: SuiteResult, bundle: str) -> dict[str, float] | None:
    row = result.bundles.get(bundle)
    return None if row is None else row.scores
