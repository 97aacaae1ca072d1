"""``actorflow send`` and ``journal requeue`` against a running ``actorflow run`` (J11, P1).

The system is `tests/apps/inbox.py` in a child process; each test reads its stdout line by line
until it says it handled the message (no sleeps), and stops it with SIGTERM.
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

import actorflow as af
from actorflow import testing
from tests.apps import inbox

ROOT = Path(__file__).resolve().parents[2]


def actorflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actorflow", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _start(journal: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "actorflow", "run", "tests.apps.inbox:main", "--journal",
         str(journal)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert next_line(proc, "ready") == "ready"
    return proc


def next_line(proc: subprocess.Popen[str], prefix: str) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return line.rstrip("\n")
    proc.kill()
    raise AssertionError(f"no line starting with {prefix!r}: {proc.communicate()}")


def stop(proc: subprocess.Popen[str]) -> str:
    """Stop the system gracefully; return what else it printed."""
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return out


@pytest.mark.timeout(60)
def test_send_reaches_a_running_system(tmp_path: Path) -> None:
    journal = tmp_path / "inbox.db"
    proc = _start(journal)
    rest = ""
    try:
        sent = actorflow(
            "send", "inbox", "inbox.Letter", '{"text": "hello"}', "--id", "l-1", "--json",
            "--journal", str(journal),
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout) == {
            "id": "l-1",
            "seq": 1,
            "conversation": "l-1",
            "recipient": "inbox",
            "type": "inbox.Letter",
            "duplicate": False,
            "woken": True,
        }
        assert next_line(proc, "got") == "got l-1 'hello' conversation=l-1"

        plain = actorflow(
            "send", "inbox", "Letter", '{"text": "again"}', "--conversation", "l-1",
            "--journal", str(journal),
        )  # fmt: skip
        assert plain.returncode == 0, plain.stderr
        new_id = plain.stdout.strip()
        assert next_line(proc, "got") == f"got {new_id} 'again' conversation=l-1"

        repeated = actorflow(
            "send", "inbox", "Letter", '{"text": "hello"}', "--id", "l-1", "--journal",
            str(journal),
        )  # fmt: skip
        assert repeated.returncode == 0
        assert "in the journal already" in repeated.stderr
    finally:
        rest = stop(proc)
    assert "got" not in rest  # the repeated id was not delivered again
    shown = actorflow("journal", "conversation", "l-1", "--json", "--journal", str(journal))
    assert [(m["id"], m["status"]) for m in map(json.loads, shown.stdout.splitlines())] == [
        ("l-1", "done"),
        (new_id, "done"),
    ]


@pytest.mark.timeout(60)
def test_requeue_reaches_a_running_system(tmp_path: Path) -> None:
    journal = tmp_path / "inbox.db"
    anyio.run(_dead_letter, journal)
    proc = _start(journal)
    try:
        result = actorflow("journal", "requeue", "d-1", "--journal", str(journal))
        assert result.returncode == 0, result.stderr
        assert "was woken to deliver it" in result.stdout
        assert next_line(proc, "got") == "got d-1 'late' conversation=d-1"
    finally:
        stop(proc)


async def _dead_letter(journal: Path) -> None:
    inbox.FAILING["on"] = True
    try:
        async with af.ActorSystem(journal=journal) as system:
            ref = await system.spawn(inbox.Inbox, name="inbox", max_attempts=1)
            await ref.tell(inbox.Letter("late"), id="d-1")
            await testing.wait_idle(system)
            assert system.dead_letter_count == 1
    finally:
        inbox.FAILING["on"] = False
