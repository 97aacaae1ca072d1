"""examples/approval.py under `actorflow run`: a person answers with `actorflow send` (J11), or
the durable timer escalates, also across a SIGKILL (J6)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ACTORFLOW = [sys.executable, "-m", "actorflow"]


@contextmanager
def running(journal: Path, wait_seconds: float) -> Iterator[subprocess.Popen[str]]:
    """The example under `actorflow run`, killed after 30 s whatever happens."""
    child = subprocess.Popen(
        [*ACTORFLOW, "run", "examples.approval:main", "--journal", str(journal)],
        cwd=ROOT,
        env={**os.environ, "APPROVAL_WAIT_SECONDS": str(wait_seconds)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    guard = threading.Timer(30, child.kill)
    guard.start()
    try:
        yield child
    finally:
        guard.cancel()
        child.kill()
        child.wait()
        assert child.stdout is not None
        assert child.stderr is not None
        child.stdout.close()
        child.stderr.close()


def first_line(child: subprocess.Popen[str]) -> str:
    assert child.stdout is not None
    return child.stdout.readline()


@pytest.mark.timeout(60)
def test_a_person_approves_with_actorflow_send(tmp_path: Path) -> None:
    journal = tmp_path / "approval.db"
    with running(journal, wait_seconds=300) as child:
        assert first_line(child).startswith("exp-1 waits for approval")
        sent = subprocess.run(
            [
                *ACTORFLOW,
                "send",
                "expenses",
                "approval.Decision",
                '{"request": "exp-1", "approved": true, "by": "dana"}',
                "--journal",
                str(journal),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert sent.returncode == 0, sent.stderr
        assert first_line(child) == "exp-1: approved by dana\n"
        assert child.wait(timeout=20) == 0


@pytest.mark.timeout(60)
def test_nobody_answers_and_the_timer_escalates_after_a_sigkill(tmp_path: Path) -> None:
    journal = tmp_path / "approval.db"
    with running(journal, wait_seconds=3.0) as child:
        assert first_line(child).startswith("exp-1 waits for approval")
        child.send_signal(signal.SIGKILL)  # the timer is in the journal, not yet due
        assert child.wait(timeout=10) == -signal.SIGKILL
    with running(journal, wait_seconds=3.0) as child:
        # Back up: the timer stored before the kill fires. The request may still be waiting
        # when main first asks, or (on a slow machine, where the restart takes longer than
        # what was left of the wait) the timer may have fired already: both end escalated.
        assert child.stdout is not None
        lines = child.stdout.readlines()
        assert child.wait(timeout=20) == 0
        assert lines[-1] == "exp-1: escalated by timer\n"
        assert all(line.startswith("exp-1 waits for approval") for line in lines[:-1])
        assert len(lines) <= 2
    conn_rows = subprocess.run(
        [
            *ACTORFLOW,
            "journal",
            "messages",
            "--type",
            "approval.Escalate",
            "--journal",
            str(journal),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert conn_rows.stdout.count("approval.Escalate") == 1  # fired once
