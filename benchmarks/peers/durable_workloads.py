"""The durable workloads: `STEPS`-step workflows, each step persisted before the next, run one
after another (`durable_steps`) or `CONCURRENCY` at a time (`concurrent_steps`).

Each system gets a runner (`durable_actorflow`, `durable_langgraph`, `durable_dbos`) with the
same calls: ``run(workflow_id)`` runs a new workflow to its end, ``resume(workflow_id)``
finishes one that a killed process left behind, and ``run_concurrently(prefix, workers,
per_worker)`` keeps `workers` workflows in flight at once (actorflow: one durable actor per
worker; the others: one thread per worker, see `run_in_threads`). The benchmark runs every
system in a fresh subprocess (`durable_child`) on a fresh database, so that one runtime's
threads and globals cannot slow another's.
"""

from __future__ import annotations

import importlib
import json
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..fsync_rate import fsyncs_per_second
from . import steps
from .results import Outcome, better, failure, now_ns
from .sizes import CONCURRENCY, STEPS, Sizes


class Runner(Protocol):
    """Runs workflows on one durable system, over one database file; a context manager."""

    def __enter__(self) -> Runner: ...

    def __exit__(self, *exc: object) -> None: ...

    def run(self, workflow_id: str) -> int: ...

    def resume(self, workflow_id: str) -> int: ...

    def run_concurrently(self, prefix: str, workers: int, per_worker: int) -> list[int]:
        """Each of `workers` runs `per_worker` new workflows one after another, all workers at
        once; the workflows' durations in ns (each one checked to have run `STEPS` steps)."""
        ...


@dataclass(frozen=True, slots=True)
class DurableSystem:
    """Where a durable system's runner lives, and the distribution it comes from."""

    name: str
    module: str
    runner: str
    distribution: str


SYSTEMS: Sequence[DurableSystem] = (
    DurableSystem("actorflow", "durable_actorflow", "ActorflowRunner", "actorflow"),
    DurableSystem("LangGraph", "durable_langgraph", "LangGraphRunner", "langgraph"),
    DurableSystem("DBOS", "durable_dbos", "DBOSRunner", "dbos"),
)
IN_THREAD = DurableSystem(
    "actorflow, step body in a worker thread",
    "durable_actorflow",
    "ThreadedStepsRunner",
    "actorflow",
)
"""actorflow with the step body undeclared (a plain function's default): sequential only."""
SEQUENTIAL_SYSTEMS: Sequence[DurableSystem] = (SYSTEMS[0], IN_THREAD, *SYSTEMS[1:])
POSTGRES_SYSTEMS: Sequence[DurableSystem] = (SYSTEMS[0], SYSTEMS[2])
"""The systems measured on PostgreSQL too: DBOS's home backend, beside actorflow's."""

FSYNC = "the disk: 200-byte write + fsync"
"""The sequential workload's baseline: what one durable write a step costs at the least."""

FSYNCS = 2_000
"""Writes + fsyncs per measurement of the baseline."""

CHILD_TIMEOUT = 240.0
"""Seconds one benchmark subprocess may take before the run gives up on that system."""


def open_runner(system: DurableSystem, database: str) -> Runner:
    """Import `system`'s module (an ImportError if its package is missing) and make a runner
    on `database`: a SQLite file's path, or a ``postgresql://`` URL."""
    module = importlib.import_module(f"{__package__}.{system.module}")
    where = database if database.startswith("postgresql://") else Path(database)
    runner: Runner = getattr(module, system.runner)(where)
    return runner


def system_named(name: str) -> DurableSystem:
    return next(system for system in SEQUENTIAL_SYSTEMS if system.name == name)


def run_in_threads(
    run: Callable[[str], int], prefix: str, workers: int, per_worker: int
) -> list[int]:
    """`workers` threads, each calling ``run(id)`` `per_worker` times; the durations in ns.

    The runners of systems whose API blocks (LangGraph, DBOS) use this for
    ``run_concurrently``: a workflow in flight is a thread waiting in it.
    """

    def worker(index: int) -> list[int]:
        durations = []
        for number in range(per_worker):
            started = now_ns()
            _expect_steps(run(f"{prefix}-{index}-{number}"))
            durations.append(now_ns() - started)
        return durations

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=prefix) as pool:
        per_thread = list(pool.map(worker, range(workers)))
    return [duration for durations in per_thread for duration in durations]


# -- in the subprocess -------------------------------------------------------------------------


def measure(runner: Runner, workflows: int, warmup: int) -> dict[str, float]:
    """Steps per second over `workflows` workflows, and the median time from step to step."""
    for index in range(warmup):
        _expect_steps(runner.run(f"warmup-{index}"))
    steps.STARTS.clear()
    start = now_ns()
    for index in range(workflows):
        _expect_steps(runner.run(f"workflow-{index}"))
    elapsed = now_ns() - start
    starts = steps.STARTS
    if len(starts) != workflows * STEPS:
        raise RuntimeError(f"{len(starts)} step bodies ran, expected {workflows * STEPS}")
    gaps = [
        starts[first + offset + 1] - starts[first + offset]
        for first in range(0, len(starts), STEPS)
        for offset in range(STEPS - 1)
    ]
    return {
        "steps/s": workflows * STEPS * 1e9 / elapsed,
        "p50 step us": statistics.median(gaps) / 1_000,
        "workflows/s": workflows * 1e9 / elapsed,
    }


def measure_concurrent(
    runner: Runner, workers: int, per_worker: int, warmup: int
) -> dict[str, float]:
    """Steps per second with `workers` workflows in flight at once, and the median workflow."""
    if warmup:
        runner.run_concurrently("warmup", workers, warmup)
    steps.STARTS.clear()
    start = now_ns()
    durations = runner.run_concurrently("workflow", workers, per_worker)
    elapsed = now_ns() - start
    workflows = workers * per_worker
    if len(durations) != workflows:
        raise RuntimeError(f"{len(durations)} workflows completed, expected {workflows}")
    if len(steps.STARTS) != workflows * STEPS:
        raise RuntimeError(f"{len(steps.STARTS)} step bodies ran, expected {workflows * STEPS}")
    return {
        "steps/s": workflows * STEPS * 1e9 / elapsed,
        "workflows/s": workflows * 1e9 / elapsed,
        "p50 workflow ms": statistics.median(durations) / 1e6,
    }


def _expect_steps(completed: int) -> None:
    if completed != STEPS:
        raise RuntimeError(f"a workflow completed {completed} steps, expected {STEPS}")


# -- in the parent -----------------------------------------------------------------------------


def durable_steps(sizes: Sizes, directory: Path) -> list[Outcome]:
    """Every durable system's best round of sequential workflows, each round in fresh
    subprocesses and databases; last, the disk's fsync rate (`FSYNC`), measured in the same
    directory at the start of every round."""
    arguments = ["bench", str(sizes.workflows), str(sizes.warmup_workflows)]
    fsyncs: list[float] = []
    outcomes = _rounds(
        sizes.rounds,
        directory,
        "bench",
        arguments,
        SEQUENTIAL_SYSTEMS,
        each_round=lambda: fsyncs.append(fsyncs_per_second(directory, FSYNCS)),
    )
    return [*outcomes, Outcome(FSYNC, {"steps/s": max(fsyncs)})]


def concurrent_steps(sizes: Sizes, directory: Path) -> list[Outcome]:
    """Every durable system's best round with `CONCURRENCY` workflows in flight at once."""
    arguments = [
        "concurrent",
        str(CONCURRENCY),
        str(sizes.concurrent_workflows),
        str(sizes.concurrent_warmup),
    ]
    return _rounds(sizes.rounds, directory, "concurrent", arguments)


def concurrent_steps_postgres(sizes: Sizes) -> list[Outcome]:
    """actorflow and DBOS with `CONCURRENCY` workflows in flight at once, on one throwaway
    PostgreSQL server (``synchronous_commit=on``, ``fsync=on``), a fresh database per system
    and round, both over TCP to 127.0.0.1."""
    arguments = [
        "concurrent",
        str(CONCURRENCY),
        str(sizes.concurrent_workflows),
        str(sizes.concurrent_warmup),
    ]
    try:
        from tests.journal.postgres_server import postgres_server  # psycopg, the server

        with postgres_server(synchronous_commit=True) as server:

            def database(label: str, system: DurableSystem, index: int) -> str:
                name = server.create_database()
                return f"postgresql://postgres@127.0.0.1:{server.port}/{name}"

            return _rounds(sizes.rounds, database, "postgres", arguments, POSTGRES_SYSTEMS)
    except (ImportError, RuntimeError) as error:  # no psycopg, no server binaries
        return [Outcome(system.name, problem=failure(error)) for system in POSTGRES_SYSTEMS]


def _sqlite_file(directory: Path) -> Callable[[str, DurableSystem, int], str]:
    def database(label: str, system: DurableSystem, index: int) -> str:
        return str(directory / f"{label}-{system.module}-{index}.db")

    return database


def _rounds(
    rounds: int,
    database: Path | Callable[[str, DurableSystem, int], str],
    label: str,
    arguments: list[str],
    systems: Sequence[DurableSystem] = SYSTEMS,
    each_round: Callable[[], None] | None = None,
) -> list[Outcome]:
    """`rounds` rounds of every system, the order rotating; each system's best figures.

    `database` is the directory of the SQLite files, or what names the database of a round;
    `each_round` is called at the start of every round (a baseline measured beside them)."""
    where = _sqlite_file(database) if isinstance(database, Path) else database
    results: dict[str, Outcome] = {}
    for index in range(rounds):
        if each_round is not None:
            each_round()
        shift = index % len(systems)
        for system in [*systems[shift:], *systems[:shift]]:
            previous = results.get(system.name)
            if previous is not None and previous.problem is not None:
                continue
            outcome = _run_child(system, where(label, system, index), arguments)
            if previous is not None and outcome.problem is None:
                outcome = better(previous, outcome)
            results[system.name] = outcome
    return [results[system.name] for system in systems]


def _run_child(system: DurableSystem, database: str, arguments: list[str]) -> Outcome:
    """Run `durable_child` MODE SYSTEM DATABASE ARGS... (`arguments` is MODE, ARGS...)."""
    mode, *rest = arguments
    command = [
        sys.executable,
        "-m",
        f"{__package__}.durable_child",
        mode,
        system.name,
        database,
        *rest,
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as error:
        return Outcome(system.name, problem=failure(error))
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Outcome(system.name, problem=f"failed: exit {done.returncode}: {tail}")
    answer = json.loads(lines[-1])
    return Outcome(system.name, answer.get("metrics", {}), answer.get("problem"))
