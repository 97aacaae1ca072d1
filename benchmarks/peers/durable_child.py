"""One durable system in a process of its own: a benchmark, or one side of the crash test.

    python -m benchmarks.peers.durable_child bench SYSTEM DATABASE WORKFLOWS WARMUP
    python -m benchmarks.peers.durable_child concurrent SYSTEM DATABASE WORKERS PER_WORKER WARMUP
    python -m benchmarks.peers.durable_child crash SYSTEM DATABASE SIDE_FILE first|resume

DATABASE is a SQLite file's path, or a ``postgresql://`` URL (actorflow and DBOS).

The last line on stdout is JSON: ``{"metrics": {...}}`` or ``{"completed": steps}``, or
``{"problem": "..."}`` when the system cannot be imported or fails. In the crash test's first
phase the step that the parent kills the process in never returns (see `crash`).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from . import steps
from .durable_workloads import measure, measure_concurrent, open_runner, system_named
from .results import failure, unavailable

CRASH_WORKFLOW = "crash-workflow"
"""The id of the workflow the crash test runs, kills and resumes."""

KILL_AT_STEP = 5
"""The crash test kills the first process while step 5 of 10 runs (steps 1-4 have finished)."""

BLOCK_SECONDS = 60.0
"""How long the step the parent kills in waits for the kill before it gives up and returns."""


def main(argv: Sequence[str]) -> int:
    mode, name, database, *rest = argv
    system = system_named(name)
    if mode == "crash":
        # Before the runner opens: a system may resume the pending workflow as it starts.
        side_file, phase = rest
        steps.on_step = partial(note_execution, Path(side_file), phase)
    try:
        runner = open_runner(system, database)
        with runner:
            if mode == "bench":
                answer: dict[str, object] = {"metrics": measure(runner, int(rest[0]), int(rest[1]))}
            elif mode == "concurrent":
                workers, per_worker, warmup = map(int, rest)
                answer = {"metrics": measure_concurrent(runner, workers, per_worker, warmup)}
            else:
                if phase == "first":
                    completed = runner.run(CRASH_WORKFLOW)
                else:
                    completed = runner.resume(CRASH_WORKFLOW)
                answer = {"completed": completed}
    except ImportError as error:
        answer = {"problem": unavailable(system.distribution, error)}
    except Exception as error:
        answer = {"problem": failure(error)}
    print(json.dumps(answer), flush=True)
    return 0


def note_execution(side_file: Path, phase: str, index: int) -> None:
    """Append ``PHASE STEP`` to the side file; in the first phase, wait in the step to be killed."""
    with side_file.open("a") as side:
        side.write(f"{phase} {index + 1}\n")
    if phase == "first" and index + 1 == KILL_AT_STEP:
        time.sleep(BLOCK_SECONDS)  # the parent SIGKILLs this process while it sleeps


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
