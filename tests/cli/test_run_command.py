"""`actorflow run` as a real process: signals, restarts, exit codes, bad targets (P1, P3)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def actorflow(*args: str, journal: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "actorflow", *args, "--journal", str(journal)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def lines_until(proc: subprocess.Popen[str], prefix: str) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"no line starting with {prefix!r}: {proc.communicate()}")


@pytest.mark.timeout(90)
def test_p1_run_stops_gracefully_and_a_kill_loses_nothing(tmp_path: Path) -> None:
    journal = tmp_path / "served.db"
    first = actorflow("run", "tests.apps.served:main", journal=journal)
    assert lines_until(first, "ready") == "ready seen=0"
    assert lines_until(first, "sent") == "sent seen=[0, 1, 2, 3, 4]"
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    assert "SIGTERM received: stopping gracefully" in err

    second = actorflow("run", "tests.apps.served:main", journal=journal)
    assert lines_until(second, "ready") == "ready seen=5"
    lines_until(second, "sent")
    second.send_signal(signal.SIGKILL)
    second.communicate(timeout=30)

    third = actorflow("run", "tests.apps.served:main", journal=journal)
    assert lines_until(third, "ready") == "ready seen=10"
    third.send_signal(signal.SIGINT)
    third.communicate(timeout=30)
    assert third.returncode == 0


@pytest.mark.timeout(60)
def test_p1_run_serves_a_declared_tree_and_logs_as_json(tmp_path: Path) -> None:
    journal = tmp_path / "tree.db"
    proc = actorflow(
        "run", "tests.apps.served:tree", "--log-json", "--log-level", "debug", journal=journal
    )
    assert proc.stderr is not None
    for line in proc.stderr:  # the system says when it runs
        first = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(first)
        if first["message"].startswith("actor system running: 1 actor(s), journal"):
            break
    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "actorflow",
            "journal",
            "actors",
            "--json",
            "--journal",
            str(journal),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(listed.stdout.splitlines()[0])["name"] == "counter"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    records = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert any("stopping gracefully" in r["message"] for r in records)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("nocolon", "is not MODULE:FACTORY"),
        ("no_such_module_here:main", "no module 'no_such_module_here'"),
        ("tests.apps.served:missing", "has no 'missing'"),
        ("tests.apps.served:not_a_factory", "is neither an async function"),
    ],
)
def test_p3_a_bad_target_is_one_line_and_exit_2(target: str, expected: str, tmp_path: Path) -> None:
    proc = actorflow("run", target, journal=tmp_path / "bad.db")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("actorflow: error: ")
    assert expected in err
    assert "Traceback" not in err


@pytest.mark.timeout(60)
def test_p3_run_refuses_an_empty_file_as_the_journal_commands_do(tmp_path: Path) -> None:
    # J9: a truncated journal must never silently become a fresh one.
    journal = tmp_path / "empty.db"
    journal.touch()
    proc = actorflow("run", "tests.apps.served:main", journal=journal)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err
    assert out == ""
    assert err.splitlines() == [
        f"actorflow: error: {journal} is an empty file, not an actorflow journal; delete it to"
        " start a new journal there, or check the path"
    ]
    assert journal.stat().st_size == 0
    listed = subprocess.run(
        [sys.executable, "-m", "actorflow", "journal", "stats", "--journal", str(journal)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (listed.returncode, listed.stderr) == (1, err)
