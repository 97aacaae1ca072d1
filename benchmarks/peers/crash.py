"""The crash test: kill a durable workflow's process in the middle, start it again, count steps.

For each durable system the parent starts `durable_child` in crash mode. Its step bodies append
a line to a side file each time they really run; when step `KILL_AT_STEP` starts, the step waits
and the parent SIGKILLs the process. A second process on the same database then resumes the
workflow. The side file then tells how many step bodies ran in all, and whether a step that had
finished before the kill ran again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .durable_child import KILL_AT_STEP
from .durable_workloads import SYSTEMS, DurableSystem
from .results import CrashOutcome, failure
from .sizes import STEPS

READY_TIMEOUT = 90.0
"""Seconds to wait for the first process to reach the step it is killed in."""

RESUME_TIMEOUT = 120.0
"""Seconds the resuming process may take."""


def crash_test(directory: Path) -> list[CrashOutcome]:
    """Kill and resume one workflow on every durable system, one system after another."""
    outcomes = []
    for system in SYSTEMS:
        try:
            outcomes.append(kill_and_resume(system, directory))
        except Exception as error:
            outcomes.append(CrashOutcome(system.name, problem=failure(error)))
    return outcomes


def kill_and_resume(system: DurableSystem, directory: Path) -> CrashOutcome:
    """One system's crash test: start, SIGKILL inside step `KILL_AT_STEP`, resume, count."""
    database = directory / f"crash-{system.module}.db"
    side_file = directory / f"crash-{system.module}.steps"
    side_file.touch()
    first = subprocess.Popen(
        _command(system, database, side_file, "first"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        reached = _wait_for_step(first, side_file, KILL_AT_STEP)
    finally:
        if first.poll() is None:
            os.kill(first.pid, signal.SIGKILL)
        out, err = first.communicate()
    if not reached:
        when = f"before step {KILL_AT_STEP} was reached"
        return CrashOutcome(system.name, problem=_problem(out, err, first.returncode, when))

    second = subprocess.run(
        _command(system, database, side_file, "resume"),
        capture_output=True,
        text=True,
        timeout=RESUME_TIMEOUT,
        check=False,
    )
    executed = [line.split() for line in side_file.read_text().splitlines()]
    answer = _answer(second.stdout)
    completed = answer.get("completed")
    before_kill = {int(step) for phase, step in executed if phase == "first"} - {KILL_AT_STEP}
    repeated = sorted({int(step) for phase, step in executed if phase == "resume"} & before_kill)
    problem = None
    if completed is None:
        problem = _problem(second.stdout, second.stderr, second.returncode, "when resuming")
    return CrashOutcome(
        system.name,
        completed=completed == STEPS,
        executions=len(executed),
        repeated=repeated,
        problem=problem,
    )


def _command(system: DurableSystem, database: Path, side_file: Path, phase: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        f"{__package__}.durable_child",
        "crash",
        system.name,
        str(database),
        str(side_file),
        phase,
    ]


def _wait_for_step(process: subprocess.Popen[str], side_file: Path, step: int) -> bool:
    """Poll the side file until `step` has started; False if the process ended or timed out."""
    wanted = f"first {step}"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if wanted in side_file.read_text().splitlines():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.005)
    return False


def _answer(stdout: str) -> dict[str, object]:
    lines = stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _problem(stdout: str, stderr: str, returncode: int | None, when: str) -> str:
    """The child's own account of what went wrong, or its exit status and last stderr line."""
    problem = _answer(stdout).get("problem")
    if isinstance(problem, str):
        return problem
    tail = (stderr.strip().splitlines() or ["no output"])[-1]
    return f"failed: exit {returncode} {when}: {tail}"
