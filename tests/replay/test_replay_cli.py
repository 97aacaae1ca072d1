"""``actorflow replay`` and ``actorflow journal pin|unpin`` (R1, R2, P3)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import anyio
import pytest
from examples.evals.record import record_team
from examples.research_team import Planner, Research, Task

from actorflow.journal import SQLiteJournal
from actorflow.journal._schema import MIGRATIONS

from ..cli.support import assert_one_error_line, cli


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("team") / "team.db"
    anyio.run(record_team, SQLiteJournal(path))
    return path


def test_r1_the_same_code_replays_clean_and_exits_0(team: Path) -> None:
    result = cli(["replay", "task-1", "--journal", str(team)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["recorded", "|", "replayed"]
    assert lines[-1] == "5 turns replayed, 0 diverged"
    assert all(line[0] in "= " for line in lines[:-1])


def test_r1_json_is_one_object_for_programs(team: Path) -> None:
    result = cli(["replay", "task-1", "--journal", str(team), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["mode"], data["diverged"], data["divergences"]) == ("strict", False, [])
    assert [t["actor"] for t in data["turns"]] == [
        "planner",
        "worker-1",
        "worker-2",
        "planner",
        "planner",
    ]


def test_r1_strict_replay_of_code_that_sends_one_more_message_exits_1_naming_it(
    team: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Planner.on_task

    async def on_task(self: Planner, msg: Task) -> None:
        await original(self, msg)
        await self.ctx.system.lookup("worker-1").tell(Research("And one more?"))

    monkeypatch.setattr(Planner, "on_task", on_task)
    result = cli(["replay", "task-1", "--journal", str(team)])
    assert result.exit_code == 1
    summary = result.stdout.splitlines()[-1]
    assert summary.startswith("6 turns replayed, 2 diverged: planner#1 message sent"), summary
    added = [line.split(" | ") for line in result.stdout.splitlines() if line.startswith("+")]
    assert ["+", "  -> worker-1 team.Research"] in [
        [left.strip(), right[: len("  -> worker-1 team.Research")]] for left, right in added
    ]


def test_r1_a_live_replay_that_diverges_exits_0(team: Path) -> None:
    result = cli(["replay", "task-1", "--journal", str(team), "--live", "llm,plan"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "5 turns replayed, 0 diverged"


def test_p3_bad_input_is_one_line(team: Path, tmp_path: Path) -> None:
    assert_one_error_line(
        cli(["replay", "nope", "--journal", str(team)]), 1, "conversation 'nope' is not in"
    )
    assert_one_error_line(
        cli(["replay", "task-1", "--journal", str(tmp_path / "missing.db")]), 1, "missing.db"
    )
    assert_one_error_line(
        cli(["replay", "task-1", "--journal", str(team), "--app", "no_such_module"]),
        1,
        "cannot import no_such_module",
    )
    assert_one_error_line(
        cli(["replay", "task-1", "--journal", str(team), "--strict", "--live", "llm"]),
        2,
        "give one of --strict, --fork-at and --live",
    )


def test_r1_code_that_raises_shows_the_diff_so_far_and_one_error_line(
    team: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Planner, msg: object) -> None:
        raise RuntimeError("the new code is broken")

    monkeypatch.setattr(Planner, "on_finding", broken)
    result = cli(["replay", "task-1", "--journal", str(team)])
    assert result.exit_code == 1
    assert "worker-2#1 team.Research" in result.stdout  # the diff so far
    assert result.stderr.strip() == (
        "actorflow: error: planner#2 raised RuntimeError: the new code is broken"
    )


def test_r2_a_pinned_conversation_survives_compaction_and_stays_replayable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "team.db"
    anyio.run(record_team, SQLiteJournal(path))
    journal = ["--journal", str(path)]
    assert cli(["journal", "pin", "task-1", *journal]).stdout == (
        "pinned conversation task-1: compaction keeps it whole\n"
    )
    assert cli(["journal", "pin", "task-1", *journal]).stdout == (
        "conversation task-1 was pinned already\n"
    )
    assert cli(["journal", "compact", "--before", "0s", *journal]).exit_code == 0
    assert cli(["replay", "task-1", *journal]).exit_code == 0
    assert cli(["journal", "unpin", "task-1", *journal]).stdout == "unpinned conversation task-1\n"
    assert cli(["journal", "compact", "--before", "0s", *journal]).exit_code == 0
    assert_one_error_line(cli(["replay", "task-1", *journal]), 1, "compacted")
    assert_one_error_line(cli(["journal", "pin", "zzz", *journal]), 1, "no conversation 'zzz'")


def test_r2_a_journal_of_a_schema_before_recording_says_so(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        for version in (1, 2):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
        conn.execute("INSERT INTO actorflow_meta VALUES ('schema_version', '2')")
        conn.execute(
            "INSERT INTO messages (id, recipient, type, body, created_at, conversation)"
            " VALUES ('old-1', 'a', 'Add', x'01', 1.0, 'old-1')"
        )
    conn.close()
    assert_one_error_line(
        cli(["replay", "old-1", "--journal", str(path)]),
        1,
        "has journal schema 2, older than this actorflow's",
    )
