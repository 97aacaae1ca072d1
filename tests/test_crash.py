"""Crash tests in real processes killed with SIGKILL (J2, J3, J5, S7, J8).

The full loop is `make crash N=200`; `make test` runs a short one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .crash.loop import run

ROOT = Path(__file__).resolve().parent.parent
KILLS = int(os.environ.get("ACTORFLOW_TEST_KILLS", "20"))


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
    assert lines[1].startswith("dead letter: victim Poison ProcessDied: 3 attempt(s) counted")
