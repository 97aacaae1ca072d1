"""``journal requeue``: the one writing command; a dead letter goes back to pending (S7)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from click.testing import Result

import actorflow as af
from actorflow import testing
from actorflow.journal import _sqlite_source

from .postgres_support import listening
from .support import (
    FAILING,
    FIXED,
    Fail,
    Notebook,
    assert_one_error_line,
    cli,
    restart_until_fixed,
    write_lock_held,
)


def requeue(path: Path | str, message_id: str) -> Result:
    return cli(["journal", "requeue", message_id, "--journal", str(path)])


def show(path: Path | str, message_id: str) -> dict[str, Any]:
    result = cli(["journal", "show", message_id, "--journal", str(path), "--json"])
    assert result.exit_code == 0, result.output
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


@pytest.mark.anyio
async def test_a_requeued_dead_letter_is_picked_up_by_the_running_system(new_journal: str) -> None:
    """On a SQLite file and on PostgreSQL (C1: its wake-up a NOTIFY after the commit)."""
    path = new_journal
    FAILING["on"] = True
    fixed = FIXED["flaky"] = anyio.Event()
    try:
        async with af.ActorSystem(journal=path) as system:
            dora = await system.spawn(Notebook, name="dora", max_attempts=2)
            await dora.tell(Fail("flaky"), id="f-1")
            await testing.wait_idle(system)
            assert system.dead_letter_count == 1
            dead = await anyio.to_thread.run_sync(show, path, "f-1")
            assert (dead["status"], dead["attempts"]) == ("dead", 2)
            assert dead["error"] == "RuntimeError: flaky"

            await listening(path)
            FAILING["on"] = False  # the cause is fixed; the requeue wakes the system (J11)
            result = await anyio.to_thread.run_sync(requeue, path, "f-1")
            assert result.exit_code == 0, result.output
            assert result.stdout == (
                "requeued f-1 (cli.Fail to dora, dead after 2 attempts): pending again; the"
                " system running on this journal was woken to deliver it\n"
            )
            assert result.stderr == ""
            with anyio.fail_after(10):
                await fixed.wait()
            await testing.wait_idle(system)
        done = await anyio.to_thread.run_sync(show, path, "f-1")
        assert (done["status"], done["attempts"], done["error"]) == ("done", 1, None)
        state = await anyio.to_thread.run_sync(
            cli, ["journal", "state", "dora", "--journal", str(path), "--json"]
        )
        assert json.loads(state.stdout)["state"] == {"notes": ["fixed: flaky"]}
    finally:
        FAILING["on"] = True
        FIXED.clear()


@pytest.mark.anyio
async def test_a_requeued_dead_letter_runs_when_a_system_next_starts(journal: Path) -> None:
    result = await anyio.to_thread.run_sync(requeue, journal, "m-04")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(
        "pending again; no running system was woken (one running on this journal takes it in"
        " within a second; else the next one started on it delivers it)\n"
    )
    pending = await anyio.to_thread.run_sync(show, journal, "m-04")
    assert {k: pending[k] for k in ("status", "attempts", "error", "traceback", "done_at")} == {
        "status": "pending",
        "attempts": 0,
        "error": None,
        "traceback": None,
        "done_at": None,
    }
    await restart_until_fixed(journal, "bad input")  # alice comes back from the journal
    done = await anyio.to_thread.run_sync(show, journal, "m-04")
    assert (done["status"], done["attempts"]) == ("done", 1)


def test_requeue_leaves_a_notice_for_the_running_system(journal: Path) -> None:
    assert requeue(journal, "m-04").exit_code == 0
    with sqlite3.connect(journal) as conn:
        notices = conn.execute("SELECT message_id FROM notices").fetchall()
    conn.close()
    assert notices == [("m-04",)]


@pytest.mark.parametrize(("message_id", "status"), [("m-01", "done"), ("m-05", "pending")])
def test_only_a_dead_letter_can_be_requeued(journal: Path, message_id: str, status: str) -> None:
    before = journal.read_bytes()
    assert_one_error_line(
        requeue(journal, message_id),
        1,
        f"message {message_id!r} is {status}, not dead",
        "actorflow journal dead",
    )
    assert journal.read_bytes() == before


def test_requeue_twice(journal: Path) -> None:
    assert requeue(journal, "m-04").exit_code == 0
    assert_one_error_line(requeue(journal, "m-04"), 1, "is pending, not dead")


def test_requeue_waits_for_the_write_lock_then_says_who_holds_it(
    journal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sqlite_source, "BUSY_TIMEOUT", 0.05)
    with write_lock_held(journal):
        assert_one_error_line(requeue(journal, "m-04"), 1, "another process holds the write lock")
    assert show(journal, "m-04")["status"] == "dead"  # nothing was half-done
    assert requeue(journal, "m-04").exit_code == 0


def test_requeue_checks_the_file_first(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    assert_one_error_line(requeue(missing, "m-04"), 1, "no journal at")
    assert not missing.exists()  # never creates a journal
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    assert_one_error_line(requeue(other, "m-04"), 1, "not an actorflow journal")
