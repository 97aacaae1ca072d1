"""A message that killed the process on every attempt is a dead letter (S7) whose stored error
says what the log says: ``ProcessDied: ...``, for the CLI and the journal API alike."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from actorflow.journal import SQLiteJournal

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "ProcessDied: 3 attempt(s) counted"


async def stored_errors(path: Path) -> list[str | None]:
    journal = SQLiteJournal(path)
    await journal.open()
    try:
        return [letter.error for letter in await journal.dead_letters()]
    finally:
        await journal.close()


@pytest.mark.timeout(120)
def test_s7_a_message_that_killed_the_process_is_stored_as_process_died(tmp_path: Path) -> None:
    journal = tmp_path / "poison.db"
    command = [sys.executable, "-m", "tests.crash.poison", str(journal)]
    for _ in range(3):  # max_attempts: each attempt takes the process down
        crashed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    survived = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert survived.returncode == 0, survived.stderr
    assert survived.stdout.splitlines()[1].startswith(f"dead letter: victim Poison {PREFIX}")

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
    assert dead["error"].startswith(PREFIX), dead["error"]

    (error,) = anyio.run(stored_errors, journal)
    assert (error or "").startswith(PREFIX), error
