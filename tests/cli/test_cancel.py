"""``journal cancel CONVERSATION_ID | --message ID``: pending messages and timers become cancelled
(issue 13; J10, J11, P2, P3).

The journal is the one `examples/cancelling.py` writes, in a real process: conversation plan-1
cancelled already (from Python), plan-2 with two pending steps and a pending timer, job-2
pending with an attempt started (its handler was cut off when the process stopped).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import Result

from .postgres_support import listening
from .support import assert_one_error_line, cli, copy_journal

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cancelling.py"


@pytest.fixture(scope="session")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cancelling") / "cancelling.db"
    done = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLE), str(path)],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture
def journal(written: Path, tmp_path: Path) -> Path:
    return copy_journal(written, tmp_path / "cancelling.db")


def cancel(path: Path, *args: str, env: dict[str, str | None] | None = None) -> Result:
    return cli(["journal", "cancel", *args, "--journal", str(path)], env=env)


def rows(path: Path, sql: str) -> list[Any]:
    with sqlite3.connect(path) as conn:
        found = conn.execute(sql).fetchall()
    conn.close()
    return found


def timer_ids(path: Path) -> list[str]:
    return [row[0] for row in rows(path, "SELECT id FROM timers ORDER BY due_at")]


def read(path: Path, *args: str) -> list[dict[str, Any]]:
    result = cli(["journal", *args, "--journal", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_cancelling_a_conversation_says_what_it_will_do_then_counts_what_it_did(
    journal: Path,
) -> None:
    (timer,) = timer_ids(journal)
    result = cancel(journal, "plan-2", "--by", "tester")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[:2] == [
        "cancelling 2 pending messages and 1 timer of conversation plan-2, as tester via cli:"
        " one transaction",
        "cancelled 2 pending messages and 1 timer of conversation plan-2:",
    ]
    table = "\n".join(lines[2:7])
    for fragment in ("plan-2-step-1", "plan-2-step-2", timer, "timer", "message"):
        assert fragment in table
    assert lines[7:] == [
        "left as they were: 1 done",
        "no running system was woken (one running on this journal notices within a second; one"
        " started later never restores them)",
    ]
    # Kept for the record, with who and when; the timer as the message it would have sent.
    assert timer_ids(journal) == []
    cancelled = {m["id"]: m for m in read(journal, "messages", "--status", "cancelled")}
    assert {"plan-2-step-1", "plan-2-step-2", timer} <= set(cancelled)
    assert {cancelled[i]["cancelled_by"] for i in ("plan-2-step-1", timer)} == {"tester via cli"}
    (stats,) = read(journal, "stats")
    assert stats["messages"]["cancelled"] == 4 + 3  # plan-1's from the example, and these
    assert stats["messages"]["pending"] == 1  # job-2, of another conversation
    shown = cli(["journal", "show", "plan-2-step-1", "--journal", str(journal)]).stdout
    (line,) = [x for x in shown.splitlines() if x.startswith("cancelled ")]
    assert line.endswith(" UTC by tester via cli")
    assert "status        cancelled" in shown
    tree = cli(["journal", "conversation", "plan-2", "--journal", str(journal)]).stdout
    assert "1 done, 0 pending, 0 dead, 3 cancelled" in tree.splitlines()[0]


def test_a_dry_run_shows_the_same_and_writes_nothing(journal: Path) -> None:
    everything = "SELECT * FROM messages ORDER BY seq"
    before = rows(journal, everything), timer_ids(journal), rows(journal, "SELECT * FROM notices")
    result = cancel(journal, "plan-2", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "would cancel 2 pending messages and 1 timer of conversation plan-2:"
    assert lines[-1] == "dry run: nothing was written"
    assert (rows(journal, everything), timer_ids(journal)) == before[:2]
    assert rows(journal, "SELECT * FROM notices") == before[2]


def test_json_lists_what_was_cancelled(journal: Path) -> None:
    (timer,) = timer_ids(journal)
    result = cancel(journal, "plan-2", "--json", "--by", "bot")
    assert result.exit_code == 0, result.output
    (data,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (data["target"], data["kind"], data["dry_run"], data["by"]) == (
        "plan-2",
        "conversation",
        False,
        "bot via cli",
    )
    assert data["count"] == 3
    assert [m["id"] for m in data["messages"]] == ["plan-2-step-1", "plan-2-step-2"]
    assert {m["status"] for m in data["messages"]} == {"pending"}  # as they were before
    assert [(t["id"], t["recipient"]) for t in data["timers"]] == [(timer, "worker")]
    assert data["timers"][0]["due_at"].endswith("Z")
    assert (data["started"], data["statuses"], data["woken"]) == (
        [],
        {"done": 1, "pending": 2},
        False,
    )
    dry = cancel(journal, "plan-2", "--json", "--dry-run")
    assert json.loads(dry.stdout)["count"] == 0  # nothing is left


def test_one_message_that_had_started_is_marked_so(journal: Path) -> None:
    result = cancel(journal, "--message", "job-2", "--by", "ops")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "cancelling pending message job-2, as ops via cli: one transaction"
    assert "message, started" in lines[4]
    assert lines[5] == (
        "job-2: an attempt had started; if its handler is running, it finishes (done)"
    )
    (job,) = [m for m in read(journal, "messages", "--status", "cancelled") if m["id"] == "job-2"]
    assert job["cancelled_by"] == "ops via cli"


def test_one_timer(journal: Path) -> None:
    (timer,) = timer_ids(journal)
    result = cancel(journal, "--message", timer, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["kind"], data["count"], [t["id"] for t in data["timers"]]) == ("timer", 1, [timer])
    assert timer_ids(journal) == []


def test_the_os_user_is_recorded_by_default(journal: Path) -> None:
    env: dict[str, str | None] = {"LOGNAME": "ops-alice", "USER": None, "LNAME": None}
    result = cancel(journal, "--message", "plan-2-step-1", env=env)
    assert result.exit_code == 0, result.output
    assert "as ops-alice via cli" in result.stdout.splitlines()[0]


def test_nothing_to_cancel_is_said_in_one_line_and_exits_0(journal: Path) -> None:
    done = cancel(journal, "plan-1")
    assert (done.exit_code, done.stdout) == (
        0,
        "nothing to cancel in conversation plan-1: no pending messages or timers (5 messages:"
        " 4 cancelled, 1 done)\n",
    )
    one = cancel(journal, "--message", "plan-1")
    assert (one.exit_code, one.stdout) == (
        0,
        "nothing to cancel: message plan-1 is done, not pending\n",
    )
    again = cancel(journal, "--message", "plan-1-step-1", "--dry-run")
    assert again.stdout == "nothing to cancel: message plan-1-step-1 is cancelled, not pending\n"


def test_unknown_ids_and_message_ids_given_as_conversations_fail_in_one_line(
    journal: Path,
) -> None:
    assert_one_error_line(
        cancel(journal, "nope"), 1, "no conversation with id 'nope' in", "journal messages"
    )
    assert_one_error_line(
        cancel(journal, "--message", "nope"), 1, "no message or timer with id 'nope'"
    )
    assert_one_error_line(
        cancel(journal, "plan-2-step-1"),
        1,
        "'plan-2-step-1' is not a conversation id",
        "a message in conversation plan-2",
        "actorflow journal cancel plan-2;",
        "actorflow journal cancel --message plan-2-step-1",
    )
    assert timer_ids(journal) != []  # nothing was cancelled by any of them


def test_bad_command_lines_exit_2(journal: Path, tmp_path: Path) -> None:
    assert_one_error_line(cancel(journal), 2, "give a CONVERSATION_ID or --message ID")
    assert_one_error_line(cancel(journal, "plan-2", "--message", "job-2"), 2, "not both")
    assert_one_error_line(cancel(journal, "\udcff"), 2, "is not valid UTF-8 text")
    assert_one_error_line(
        cancel(tmp_path / "missing.db", "plan-2"), 1, "no journal at", "missing.db"
    )


# -- against a running system, in another process (J11) ----------------------------------------


def actorflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actorflow", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def next_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise AssertionError(f"the system ended: {proc.communicate()}")
    return line.rstrip("\n")


@pytest.mark.timeout(90)
def test_a_running_system_never_handles_what_was_cancelled(new_journal: str) -> None:
    """On a SQLite file and on PostgreSQL (C1: its wake-up a NOTIFY after the commit)."""
    path = new_journal
    proc = subprocess.Popen(
        [sys.executable, "-m", "actorflow", "run", "tests.apps.desk:main", "--journal", path],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert next_line(proc) == "ready"
        anyio.run(listening, path)

        def send(*args: str) -> None:
            sent = actorflow("send", *args, "--journal", path)
            assert sent.returncode == 0, sent.stderr

        send("desk", "desk.Work", '{"n": 0}', "--id", "w-0")
        assert next_line(proc) == "started 0"  # and it waits for the switch
        for n in (1, 2):
            send("desk", "desk.Work", f'{{"n": {n}}}', "--id", f"w-{n}", "--conversation", "batch")
        cancelled = actorflow("journal", "cancel", "batch", "--journal", path, "--by", "ops")
        assert cancelled.returncode == 0, cancelled.stderr
        assert "cancelled 2 pending messages of conversation batch:" in cancelled.stdout
        assert "the system running on this journal was woken" in cancelled.stdout
        # The release comes through the journal after the cancel, so the system has taken the
        # cancel in by the time job 0 goes on: no race with the wake-up.
        send("switch", "desk.Release", "{}")
        assert next_line(proc) == "done 0"
        send("desk", "desk.Work", '{"n": 3}', "--id", "w-3")
        assert next_line(proc) == "started 3"  # 1 and 2 were never started
        assert next_line(proc) == "done 3"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "started" not in out
    shown = actorflow("journal", "conversation", "batch", "--json", "--journal", path)
    assert [
        (m["id"], m["status"], m["cancelled_by"])
        for m in map(json.loads, shown.stdout.splitlines())
    ] == [
        ("w-1", "cancelled", "ops via cli"),
        ("w-2", "cancelled", "ops via cli"),
    ]


def test_ids_are_never_cut_or_wrapped_at_80_columns(journal: Path) -> None:
    (timer,) = timer_ids(journal)
    for width in ("80", "200"):
        result = cancel(journal, "plan-2", "--dry-run", env={"ACTORFLOW_WIDTH": width})
        assert result.exit_code == 0, result.output
        words = result.stdout.split()
        for message_id in ("plan-2-step-1", "plan-2-step-2", timer):
            assert message_id in words, (width, result.stdout)
        assert max(len(line) for line in result.stdout.splitlines()[1:-2]) <= int(width)


def test_compaction_counts_and_removes_cancelled_messages_like_done_ones(journal: Path) -> None:
    assert cancel(journal, "plan-2").exit_code == 0
    (stats,) = read(journal, "stats")
    gone = stats["messages"]["done"] + stats["messages"]["cancelled"]
    assert stats["messages"]["cancelled"] == 7

    def compact(*args: str) -> dict[str, Any]:
        (data,) = read(journal, "compact", "--before", "0s", *args)
        return data

    assert compact("--dry-run")["messages"] == gone
    assert compact()["messages"] == gone
    (after,) = read(journal, "stats")
    assert after["messages"] == {"pending": 1, "done": 0, "dead": 0, "cancelled": 0}
