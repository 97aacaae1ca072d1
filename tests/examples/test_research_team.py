"""examples/research_team.py under `actorflow run`: killed mid-run, it finishes when run again
without repeating a recorded LLM call (J4), counted by the fake LLM's call log."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import msgspec
import pytest
from examples.research_team import completion

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "actorflow", "run", "examples.research_team:main"]
REPORT = "report: How is actor runtimes built?"
# One plan, one answer per question (two), one report: four LLM calls when nothing is repeated.
PROMPTS = 4


def recorded(journal: Path) -> set[str]:
    """Every step result the journal holds (the fake LLM's answers among them)."""
    with sqlite3.connect(journal) as conn:
        rows = conn.execute("SELECT result FROM steps").fetchall()
    conn.close()
    return {msgspec.msgpack.decode(result) for (result,) in rows}


def check_calls(prompts: list[str], recorded_at_kill: set[str]) -> None:
    """Each of the four prompts was asked; only calls not recorded at the kill ran twice."""
    assert len(set(prompts)) == PROMPTS, prompts
    for prompt in set(prompts):
        if prompts.count(prompt) > 1:
            assert prompts.count(prompt) == 2, prompt
            assert completion(prompt) not in recorded_at_kill, (
                f"recorded, yet asked again: {prompt}"
            )


def run(journal: Path, calls: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, "--journal", str(journal)],
        cwd=ROOT,
        env={**os.environ, "RESEARCH_TEAM_CALLS": str(calls), **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("kill_at", [1, 2, 3, 4])
def test_killed_after_its_nth_recorded_step_it_finishes_without_repeating_a_call(
    tmp_path: Path, kill_at: int
) -> None:
    journal, calls = tmp_path / "team.db", tmp_path / "calls.txt"
    killed = run(journal, calls, ACTORFLOW_CRASH_AT=f"step.after_record:{kill_at}")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    at_kill = recorded(journal)
    done = run(journal, calls)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(REPORT)
    check_calls(calls.read_text().splitlines(), at_kill)


@pytest.mark.timeout(60)
def test_sigkilled_from_outside_mid_call_it_finishes_and_never_repeats_the_plan(
    tmp_path: Path,
) -> None:
    """A kill from outside lands while a worker's LLM call is in flight: that call may run
    again (it was never recorded); the plan, recorded before, is not asked for again."""
    journal, fifo, calls = tmp_path / "team.db", tmp_path / "calls.fifo", tmp_path / "calls.txt"
    os.mkfifo(fifo)
    child = subprocess.Popen(
        [*COMMAND, "--journal", str(journal)],
        cwd=ROOT,
        env={**os.environ, "RESEARCH_TEAM_CALLS": str(fifo)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    first: list[str] = []
    timer = threading.Timer(30, child.kill)  # never hang the suite if something is wrong
    timer.start()
    try:
        with open(fifo) as calls_seen:  # each call opens the FIFO, writes its prompt, closes
            while len(first) < 2:
                line = calls_seen.readline()
                if line:
                    first.append(line.rstrip("\n"))
                elif child.poll() is not None:
                    break
        child.send_signal(signal.SIGKILL)  # the second call, an answer, is in flight
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        timer.cancel()
        child.kill()
    assert first[0] == "plan: actor runtimes"
    assert first[1].startswith("answer: ")
    at_kill = recorded(journal)
    assert completion("plan: actor runtimes") in at_kill
    done = run(journal, calls)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(REPORT)
    check_calls(first + calls.read_text().splitlines(), at_kill)
