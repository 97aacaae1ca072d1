"""`actorflow run --node/--lease` (C2, P3): a name a live node holds is one line and exit 1;
the options on a SQLite journal are a usage error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ..journal.postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "actorflow", "run", "tests.apps.cluster:main", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "error" in line.lower()]


@pytest.mark.timeout(60)
def test_c2_run_refuses_a_node_name_a_live_node_holds(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    first = run("--journal", url, "--node", "same")
    try:
        assert first.stdout is not None
        assert first.stdout.readline().strip() == "ready"
        second = run("--journal", url, "--node", "same")
        _, err = second.communicate(timeout=30)
        assert second.returncode == 1, err
        assert "Traceback" not in err
        (line,) = error_lines(err)
        assert "node name 'same' is held by a live node" in line
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)
    assert first.returncode == 0


@pytest.mark.timeout(30)
def test_p3_node_and_lease_on_a_sqlite_journal_are_a_usage_error(tmp_path: Path) -> None:
    proc = run("--journal", str(tmp_path / "j.db"), "--node", "a")
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert "--node and --lease are for a postgresql:// journal" in err
    assert "Traceback" not in err
