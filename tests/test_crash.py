"""Crash tests in real processes killed with SIGKILL (J2, J3, J5, S7, J8).

The full loop is `make crash N=200`; `make test` runs a short one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from actorflow.journal import SQLiteJournal

from .crash.loop import run

ROOT = Path(__file__).resolve().parent.parent
KILLS = int(os.environ.get("ACTORFLOW_TEST_KILLS", "20"))
PROCESS_DIED = "ProcessDied: 3 attempt(s) counted"


@pytest.mark.timeout(600)
def test_j3_kill_loop_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    outcome = run(kills=KILLS, total=60 * KILLS, seed=KILLS, workdir=tmp_path)
    print(outcome.line())
    assert (outcome.lost, outcome.duplicated) == (0, 0), outcome.line()
    assert outcome.integrity_ok == KILLS
    assert outcome.handled == 60 * KILLS
    # A message committed and handled, but killed before its acknowledgement was written, is
    # not sent again (the app resumes after the last one handled: see tests/crash/app.py).
    assert outcome.acked <= outcome.handled


@pytest.mark.timeout(120)
def test_s7_a_message_that_kills_the_process_is_dead_lettered_after_max_attempts(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "poison.db"
    command = [sys.executable, "-m", "tests.crash.poison", str(journal)]
    for _ in range(3):  # max_attempts: each attempt takes the process down
        crashed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    survived = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert survived.returncode == 0, survived.stderr
    lines = survived.stdout.splitlines()
    assert lines[0] == "fine"
    assert lines[1].startswith(f"dead letter: victim Poison {PROCESS_DIED}")
    # The journal stores the error the log shows, for the CLI and the journal API alike.
    listed = subprocess.run(
        [sys.executable, "-m", "actorflow", "journal", "dead", "--json", "--journal", str(journal)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    (dead,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (dead["id"], dead["attempts"]) == ("the-poison", 3)
    assert dead["error"].startswith(PROCESS_DIED), dead["error"]
    (error,) = anyio.run(stored_errors, journal)
    assert (error or "").startswith(PROCESS_DIED), error


async def stored_errors(path: Path) -> list[str | None]:
    journal = SQLiteJournal(path)
    await journal.open()
    try:
        return [letter.error for letter in await journal.dead_letters()]
    finally:
        await journal.close()


@pytest.mark.timeout(120)
def test_s7_t2_a_started_step_killed_in_flight_is_dead_after_exactly_one_more_attempt(
    tmp_path: Path,
) -> None:
    """The process dies inside a step that marked its call started; the next start tries the
    message once, finds the marker without a result, and dead-letters it at once with
    `StepOutcomeUnknown` (not retryable), though the payer has max_attempts=5."""
    journal, calls = tmp_path / "started.db", tmp_path / "calls.txt"
    command = [sys.executable, "-m", "tests.crash.started", str(journal), str(calls)]
    crashed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    restarted = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert restarted.returncode == 0, restarted.stderr
    (letter,) = json.loads(restarted.stdout.splitlines()[-1])["dead"]
    assert letter["attempts"] == 2  # the killed one and exactly one more
    assert letter["error"].startswith("StepOutcomeUnknown: step 'pay' of payer"), letter
    assert calls.read_text().splitlines() == ["pay 5 (attempt 1)"]  # never called again
    assert restarted.stderr.count("dead-lettered Pay after 2 attempt(s)") == 1  # logged once
    listed = subprocess.run(
        [sys.executable, "-m", "actorflow", "journal", "dead", "--json", "--journal", str(journal)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    (dead,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (dead["id"], dead["attempts"]) == ("pay-1", 2)
    assert dead["error"].startswith("StepOutcomeUnknown: step 'pay' of payer"), dead["error"]
    # A third start finds nothing to do: the dead letter stays, nothing is tried again.
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.splitlines()[-1]) == {"dead": []}
    assert calls.read_text().splitlines() == ["pay 5 (attempt 1)"]
