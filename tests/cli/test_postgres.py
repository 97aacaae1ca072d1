"""The CLI on a PostgreSQL journal (J12, P1, P3, C1): `actorflow run --journal postgresql://...`
as a real process, its bad input as one line, and `actorflow send` to it. The journal commands,
replay and the UI on one: test_postgres_commands."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from ..journal.postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parents[2]


def run(target: str, journal: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "actorflow", "run", target, "--journal", journal],
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
def test_p1_run_on_postgres_stops_gracefully_and_a_kill_loses_nothing(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    first = run("tests.apps.served:main", url)
    assert lines_until(first, "ready") == "ready seen=0"
    assert lines_until(first, "sent") == "sent seen=[0, 1, 2, 3, 4]"
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    assert "<PostgresJournal" in err  # the system says which journal it runs on
    assert "password" not in err

    second = run("tests.apps.served:main", url)
    assert lines_until(second, "ready") == "ready seen=5"
    lines_until(second, "sent")
    second.send_signal(signal.SIGKILL)
    second.communicate(timeout=30)

    third = run("tests.apps.served:main", url)
    assert lines_until(third, "ready") == "ready seen=10"
    third.send_signal(signal.SIGINT)
    third.communicate(timeout=30)
    assert third.returncode == 0


def _one_line_exit_1(url: str, *fragments: str) -> None:
    proc = run("tests.apps.served:main", url)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.timeout(60)
def test_p3_run_on_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _one_line_exit_1(
        f"postgresql://postgres@127.0.0.1:{port}/postgres", "is the PostgreSQL server running"
    )


@pytest.mark.timeout(60)
def test_p3_run_on_another_applications_database_or_a_newer_journal_is_one_line(
    postgres: PostgresServer,
) -> None:
    foreign = postgres.new_database()
    with psycopg.connect(foreign, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    _one_line_exit_1(foreign, "not an actorflow journal (invoices)")
    newer = postgres.new_database()
    with psycopg.connect(newer, autocommit=True) as conn:
        conn.execute("CREATE TABLE actorflow_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO actorflow_meta VALUES ('schema_version', '7')")
    _one_line_exit_1(newer, "newer actorflow", "schema 7")


def _send(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actorflow", "send", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.timeout(60)
def test_j11_send_reaches_a_system_running_on_postgres(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    proc = run("tests.apps.inbox:main", url)
    try:
        assert lines_until(proc, "ready") == "ready"
        sent = _send(
            "inbox", "inbox.Letter", '{"text": "hello"}', "--id", "l-1", "--json",
            "--journal", url,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout) == {
            "id": "l-1",
            "seq": json.loads(sent.stdout)["seq"],
            "conversation": "l-1",
            "recipient": "inbox",
            "type": "inbox.Letter",
            "duplicate": False,
            "woken": True,
        }
        assert lines_until(proc, "got") == "got l-1 'hello' conversation=l-1"
        repeated = _send("inbox", "Letter", '{"text": "hello"}', "--id", "l-1", "--journal", url)
        assert repeated.returncode == 0, repeated.stderr
        assert "in the journal already" in repeated.stderr
        unknown = _send("nobody", "Letter", '{"text": "x"}', "--journal", url)
        assert unknown.returncode == 1
        assert unknown.stderr.count("\n") == 1
        assert "no actor named 'nobody'" in unknown.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "got" not in rest  # the repeated id was not delivered again


def test_p3_send_to_a_database_without_a_journal_is_one_line(postgres: PostgresServer) -> None:
    empty = postgres.new_database()
    result = _send("inbox", "Letter", '{"text": "x"}', "--journal", empty)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "holds no actorflow journal" in result.stderr
    with psycopg.connect(empty, autocommit=True) as conn:  # nothing was created there
        row = conn.execute("SELECT to_regclass('actorflow_meta')").fetchone()
    assert row == (None,)
