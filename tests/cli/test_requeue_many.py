"""``journal requeue`` for many dead letters at once, ``--dry-run``, and ``journal compact
--dry-run``: what they will do is said first, what they did is counted (S7, J10, J11, P2)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from click.testing import Result

import actorflow as af
from actorflow import testing
from actorflow.journal import _sqlite_source

from .support import FAILING, FIXED, Fail, Notebook, assert_one_error_line, cli, write_lock_held


def requeue(path: Path, *args: str) -> Result:
    return cli(["journal", "requeue", *args, "--journal", str(path)])


def statuses(path: Path) -> dict[str, tuple[str, int]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, status, attempts FROM messages").fetchall()
    conn.close()
    return {m_id: (status, attempts) for m_id, status, attempts in rows}


def notices(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT message_id FROM notices ORDER BY number").fetchall()
    conn.close()
    return [m_id for (m_id,) in rows]


@pytest.fixture
def three_dead(journal: Path) -> Path:
    """The example journal with m-01 (to alice, cli.Note) and m-03 (to bob) dead too."""
    with sqlite3.connect(journal) as conn:
        conn.execute(
            "UPDATE messages SET status = 'dead', done_at = NULL, attempts = 3,"
            " error = 'RuntimeError: no' WHERE id IN ('m-01', 'm-03')"
        )
    conn.close()
    return journal


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--all"], ["m-01", "m-03", "m-04"]),
        (["--actor", "alice"], ["m-01", "m-04"]),
        (["--type", "cli.Note"], ["m-01", "m-03"]),
        (["--since", "2025-01-01T00:02:00Z"], ["m-03", "m-04"]),
        (["--actor", "alice", "--type", "cli.Note"], ["m-01"]),
        (["--actor", "carol"], []),
    ],
)
def test_s7_requeue_chooses_dead_letters(
    three_dead: Path, args: list[str], expected: list[str]
) -> None:
    result = requeue(three_dead, *args, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["dry_run"], report["count"], report["woken"]) == (
        False,
        len(expected),
        False if expected else None,
    )
    assert [m["id"] for m in report["messages"]] == expected
    assert {m["status"] for m in report["messages"]} <= {"dead"}  # as they were
    after = statuses(three_dead)
    for m_id in ("m-01", "m-03", "m-04"):
        assert after[m_id][0] == ("pending" if m_id in expected else "dead")
        if m_id in expected:
            assert after[m_id][1] == 0
    assert after["m-05"] == ("pending", 1)  # pending messages are not touched
    assert notices(three_dead) == expected  # J11: one notice each


def test_requeue_counts_what_it_did(three_dead: Path) -> None:
    result = requeue(three_dead, "--all")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "requeued 3 dead letters (2 to alice, 1 to bob): pending again, attempts reset; no"
        " running system was woken (one running on this journal takes them in within a"
        " second; else the next one started on it delivers them)\n"
    )
    assert requeue(three_dead, "--all").stdout == "no dead letters match: nothing was requeued\n"


def test_dry_run_says_what_it_would_do_and_changes_nothing(three_dead: Path) -> None:
    before = three_dead.read_bytes()
    result = requeue(three_dead, "--actor", "alice", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "would requeue 2 dead letters (2 to alice); nothing was changed (run again without"
        " --dry-run to requeue them):\n"
        "seq   id     time (UTC)            recipient   type       attempts   error\n"
        "────────────────────────────────────────────────────────────────────────────────────────────\n"
        "  1   m-01   2025-01-01 00:01:00   alice       cli.Note          3   RuntimeError: no\n"
        "  4   m-04   2025-01-01 00:04:00   alice       cli.Fail          1   RuntimeError: bad input\n"  # noqa: E501
    )  # fmt: skip
    report = json.loads(requeue(three_dead, "--all", "--dry-run", "--json").stdout)
    assert (report["dry_run"], report["count"], report["woken"]) == (True, 3, None)
    assert requeue(three_dead, "m-04", "--dry-run").stdout.startswith(
        "would requeue 1 dead letter (1 to alice); nothing was changed (run again without"
        " --dry-run to requeue it):"
    )
    assert three_dead.read_bytes() == before


def test_dry_run_of_one_message_checks_it(journal: Path) -> None:
    assert_one_error_line(requeue(journal, "m-01", "--dry-run"), 1, "'m-01' is done, not dead")
    assert_one_error_line(requeue(journal, "nope", "--dry-run"), 1, "no message with id 'nope'")


def test_one_id_json(journal: Path) -> None:
    report = json.loads(requeue(journal, "m-04", "--json").stdout)
    assert (report["count"], [m["id"] for m in report["messages"]]) == (1, ["m-04"])
    assert statuses(journal)["m-04"] == ("pending", 0)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "give the ID of a dead letter, or choose them with --all"),
        (["m-04", "--all"], "give an ID, or --all / --actor / --type / --since, not both"),
        (["m-04", "--actor", "alice"], "not both"),
        (["--all", "--type", "cli.Fail"], "--all requeues every dead letter"),
        (["--since", "soon"], "'soon' is neither an ISO 8601 time"),
        (["--actor", "\udcff"], "is not valid UTF-8 text"),
    ],
)
def test_p3_requeue_bad_command_lines(journal: Path, args: list[str], fragment: str) -> None:
    before = journal.read_bytes()
    assert_one_error_line(requeue(journal, *args), 2, fragment)
    assert journal.read_bytes() == before


def test_a_locked_journal_is_one_line_and_nothing_half_done(
    three_dead: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sqlite_source, "BUSY_TIMEOUT", 0.05)
    with write_lock_held(three_dead):
        assert_one_error_line(requeue(three_dead, "--all"), 1, "another process holds the write")
    assert {statuses(three_dead)[m][0] for m in ("m-01", "m-03", "m-04")} == {"dead"}
    assert notices(three_dead) == []


@pytest.mark.anyio
async def test_j11_a_running_system_handles_what_was_requeued(tmp_path: Path) -> None:
    path = tmp_path / "many.db"
    FAILING["on"] = True
    fixed = {reason: anyio.Event() for reason in ("one", "two")}
    FIXED.update(fixed)
    try:
        async with af.ActorSystem(journal=path) as system:
            ed = await system.spawn(Notebook, name="ed", max_attempts=1)
            await ed.tell(Fail("one"), id="f-1")
            await ed.tell(Fail("two"), id="f-2")
            await testing.wait_idle(system)
            assert system.dead_letter_count == 2
            FAILING["on"] = False
            result = await anyio.to_thread.run_sync(requeue, path, "--actor", "ed")
            assert result.exit_code == 0, result.output
            assert result.stdout.startswith("requeued 2 dead letters (2 to ed): pending again")
            assert "was woken to deliver them" in result.stdout
            with anyio.fail_after(10):
                for event in fixed.values():
                    await event.wait()
            await testing.wait_idle(system)
        assert {m: statuses(path)[m] for m in ("f-1", "f-2")} == {
            "f-1": ("done", 1),
            "f-2": ("done", 1),
        }
    finally:
        FAILING["on"] = True
        FIXED.clear()


# -- compact --dry-run -------------------------------------------------------------------------


def compact(path: Path, *args: str) -> Result:
    return cli(["journal", "compact", *args, "--journal", str(path)])


def test_j10_compact_dry_run_counts_what_compact_then_removes(journal: Path) -> None:
    before = journal.read_bytes()
    dry = compact(journal, "--before", "2025-01-01T00:03:00Z", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout == (
        "would remove 2 done messages and 0 step results older than 2025-01-01 00:03:00 UTC;"
        " nothing was changed (run again without --dry-run to remove them)\n"
    )
    assert journal.read_bytes() == before
    report: dict[str, Any] = json.loads(
        compact(journal, "--before", "2025-01-01T00:03:00Z", "--dry-run", "--json").stdout
    )
    assert report == {
        "dry_run": True,
        "messages": 2,
        "steps": 0,
        "before": "2025-01-01T00:03:00.000000Z",
    }
    done = json.loads(compact(journal, "--before", "2025-01-01T00:03:00Z", "--json").stdout)
    assert (done["dry_run"], done["messages"], done["steps"]) == (False, 2, 0)


def test_compact_dry_run_counts_steps(steps_journal: Path) -> None:
    report = json.loads(compact(steps_journal, "--before", "0s", "--dry-run", "--json").stdout)
    assert (report["messages"], report["steps"]) == (2, 4)
    done = json.loads(compact(steps_journal, "--before", "0s", "--json").stdout)
    assert (done["messages"], done["steps"]) == (2, 4)
