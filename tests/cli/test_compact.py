"""``journal compact --before TIME``: old done messages go, everything still needed stays (J10)."""

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

from .support import EPOCH, Note, Notebook, assert_one_error_line, cli


def compact(path: Path, *args: str) -> Result:
    return cli(["journal", "compact", *args, "--journal", str(path)])


def ids(path: Path) -> list[str]:
    result = cli(["journal", "messages", "--json", "--journal", str(path)])
    return sorted(json.loads(line)["id"] for line in result.stdout.splitlines())


def add_step(path: Path, message_id: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO steps (message_id, step, result, created_at) VALUES (?, 'llm', x'a1', ?)",
            (message_id, EPOCH),
        )
    conn.close()


def steps(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        found = [row[0] for row in conn.execute("SELECT message_id FROM steps ORDER BY 1")]
    conn.close()
    return found


def test_compact_removes_what_was_done_before_the_time(journal: Path) -> None:
    add_step(journal, "m-01")
    add_step(journal, "m-05")  # the pending message's step: it may still run
    state_before = cli(["journal", "state", "alice", "--journal", str(journal)]).stdout
    result = compact(journal, "--before", "2025-01-01T00:02:30Z")
    assert result.exit_code == 0, result.output
    first, second = result.stdout.splitlines()
    assert first == (
        "removed 2 done messages and 1 step result older than 2025-01-01 00:02:30 UTC"
    )  # m-01 and m-02 were done at 00:01:01.5 and 00:02:01.5; m-03 at 00:03:01.5
    assert second.startswith("journal size ")
    assert second.endswith(": freed pages are reused for new rows, the file does not shrink")
    assert ids(journal) == ["m-03", "m-04", "m-05", "m-06"]
    assert steps(journal) == ["m-05"]
    assert cli(["journal", "state", "alice", "--journal", str(journal)]).stdout == state_before


def test_compact_json(journal: Path) -> None:
    result = compact(journal, "--before", "0s", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["messages"], report["steps"]) == (3, 0)
    assert report["before"].endswith("Z")
    assert set(report["size_bytes"]) == set(report["wal_bytes"]) == {"before", "after"}
    assert ids(journal) == ["m-04", "m-05", "m-06"]  # dead and pending stay


def test_a_duration_means_older_than_that(journal: Path) -> None:
    result = compact(journal, "--before", "1000w")  # 2025 is not that old
    assert result.stdout.startswith("removed 0 done messages and 0 step results older than ")
    assert len(ids(journal)) == 6
    assert compact(journal, "--before", "1h30m").stdout.startswith("removed 3 done messages")
    assert compact(journal, "--before", "1h30m").stdout.startswith("removed 0 done messages")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "Missing option '--before'"),
        (["--before", "yesterday"], "'yesterday' is neither an ISO 8601 time"),
        (["--before", ""], "Invalid value for '--before'"),
    ],
)
def test_bad_before_is_a_usage_error(journal: Path, args: list[str], expected: str) -> None:
    before = journal.read_bytes()
    assert_one_error_line(compact(journal, *args), 2, expected)
    assert journal.read_bytes() == before


def test_compact_checks_the_file_first(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    assert_one_error_line(compact(missing, "--before", "1d"), 1, "no journal at")
    assert not missing.exists()


@pytest.mark.anyio
async def test_p2_j10_compact_while_a_system_runs(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    async with af.ActorSystem(journal=path) as system:
        ref = await system.spawn(Notebook, name="kept")
        for i in range(20):
            await ref.tell(Note(f"n{i}"))
        await testing.wait_idle(system)
        result = await anyio.to_thread.run_sync(compact, path, "--before", "2025-01-01")
        assert result.stdout.startswith("removed 0 done messages")
        # In the future: every done message goes, while the system goes on writing.
        result = await anyio.to_thread.run_sync(compact, path, "--before", "2999-01-01")
        assert result.stdout.startswith("removed 20 done messages"), result.output
        for i in range(20, 25):
            await ref.tell(Note(f"n{i}"))
        await testing.wait_idle(system)
    state = cli(["journal", "state", "kept", "--json", "--journal", str(path)])
    assert json.loads(state.stdout)["state"]["notes"] == [f"n{i}" for i in range(25)]
    assert len(ids(path)) == 5


def json_lines(args: list[str], url: str) -> list[Any]:
    result = cli(["journal", *args, "--json", "--journal", url])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.anyio
async def test_c1_j10_r2_compact_keeps_a_pinned_conversation_while_a_system_runs(
    new_journal: str,
) -> None:
    """On a SQLite file and on PostgreSQL (C1)."""
    url = new_journal

    def journal(*args: str) -> list[Any]:
        return json_lines(list(args), url)

    async with af.ActorSystem(journal=url) as system:
        ref = await system.spawn(Notebook, name="kept")
        for i in range(20):
            await ref.tell(Note(f"n{i}"), id=f"n-{i}")
        await testing.wait_idle(system)
        pinned = await anyio.to_thread.run_sync(cli, ["journal", "pin", "n-3", "--journal", url])
        assert pinned.stdout == "pinned conversation n-3: compaction keeps it whole\n"
        (old,) = await anyio.to_thread.run_sync(journal, "compact", "--before", "2025-01-01")
        assert (old["messages"], old["steps"]) == (0, 0)
        (would,) = await anyio.to_thread.run_sync(
            journal, "compact", "--before", "2999-01-01", "--dry-run"
        )
        (done,) = await anyio.to_thread.run_sync(journal, "compact", "--before", "2999-01-01")
        assert would["messages"] == done["messages"] == 19  # n-3 is pinned
        for i in range(20, 25):  # the system goes on writing after the compaction
            await ref.tell(Note(f"n{i}"), id=f"n-{i}")
        await testing.wait_idle(system)
        left = await anyio.to_thread.run_sync(journal, "messages")
        assert [m["id"] for m in left] == ["n-24", "n-23", "n-22", "n-21", "n-20", "n-3"]
        unpinned = await anyio.to_thread.run_sync(
            cli, ["journal", "unpin", "n-3", "--journal", url]
        )
        assert unpinned.stdout == "unpinned conversation n-3\n"
        (last,) = await anyio.to_thread.run_sync(journal, "compact", "--before", "2999-01-01")
        assert last["messages"] == 6
    (state,) = json_lines(["state", "kept"], url)
    assert state["state"]["notes"] == [f"n{i}" for i in range(25)]
