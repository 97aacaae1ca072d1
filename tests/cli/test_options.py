"""Where the journal path comes from, options given twice, and ``tail``'s columns (P2, P3)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from .support import assert_one_error_line, cli


def test_the_journal_group_takes_journal(journal: Path) -> None:
    result = cli(["journal", "--journal", str(journal), "stats"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"file            {journal}"


@pytest.mark.parametrize("command", ["actors", "messages", "dead", "tail", "export"])
def test_every_journal_command_reads_the_groups_journal(journal: Path, command: str) -> None:
    by_group = cli(["journal", "--journal", str(journal), command])
    by_command = cli(["journal", command, "--journal", str(journal)])
    assert by_group.exit_code == 0, by_group.output
    assert by_group.stdout == by_command.stdout


def test_the_commands_own_journal_wins(journal: Path, tmp_path: Path) -> None:
    result = cli(
        ["journal", "--journal", str(tmp_path / "nope.db"), "stats", "--journal", str(journal)]
    )
    assert result.exit_code == 0, result.output
    missing = cli(["journal", "--journal", str(journal), "stats", "--journal", "nope.db"])
    assert_one_error_line(missing, 1, "no journal at nope.db;")


def test_the_groups_journal_wins_over_the_environment(journal: Path, tmp_path: Path) -> None:
    env = {"ACTORFLOW_JOURNAL": str(tmp_path / "other.db")}
    result = cli(["journal", "--journal", str(journal), "stats"], env=env)
    assert result.exit_code == 0, result.output
    missing = cli(
        ["journal", "--journal", "nope.db", "stats"], env={"ACTORFLOW_JOURNAL": str(journal)}
    )
    line = assert_one_error_line(missing, 1, "no journal at nope.db;")
    assert "from ACTORFLOW_JOURNAL" not in line


@pytest.mark.parametrize(
    "args",
    [
        ["--actor", "alice", "--actor", "bob"],
        ["--type", "cli.Note", "--type", "cli.Fail"],
        ["--status", "done", "--status", "dead"],
        ["--conversation", "m-01", "--conversation", "m-02"],
        ["--since", "1h", "--since", "2h"],
        ["--until", "1h", "--until", "2h"],
    ],
)
def test_a_filter_given_twice_is_a_usage_error(journal: Path, args: list[str]) -> None:
    result = cli(["journal", "messages", "--journal", str(journal), *args])
    assert_one_error_line(
        result, 2, f"Invalid value for '{args[0]}': given 2 times", "give it once"
    )


def test_the_env_var_is_named_only_when_the_path_came_from_it(tmp_path: Path) -> None:
    given = cli(["run", "examples.hello:main", "--journal", str(tmp_path)])
    line = assert_one_error_line(given, 2, "Invalid value for '--journal':", "is a directory")
    assert "ACTORFLOW_JOURNAL" not in line
    from_env = cli(["run", "examples.hello:main"], env={"ACTORFLOW_JOURNAL": str(tmp_path)})
    assert_one_error_line(from_env, 2, "Invalid value for '--journal' (from ACTORFLOW_JOURNAL):")


def test_tail_columns_line_up(journal: Path) -> None:
    result = cli(["journal", "tail", "--journal", str(journal)])
    lines = result.stdout.splitlines()
    assert lines[2] == "2025-01-01 00:03:00  #3  alice -> bob  cli.Note  done     m-03"
    assert lines[3] == "2025-01-01 00:04:00  #4  - -> alice    cli.Fail  dead     m-04"
    assert len({line.index(" m-0") for line in lines}) == 1  # the ids start in one column


def in_terminal(args: list[str]) -> str:
    """Run ``actorflow ARGS`` in a child process whose stdout is a terminal; its output."""
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "actorflow", *args],
            stdout=follower,
            stderr=subprocess.PIPE,
            env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"},
            timeout=60,
            check=False,
        )
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    assert done.returncode == 0, done.stderr
    return shown.decode()


def test_tail_statuses_are_coloured_on_a_terminal_only(journal: Path) -> None:
    shown = in_terminal(["journal", "tail", "--journal", str(journal)])
    assert "\x1b[33mpending" in shown
    assert "\x1b[1;31mdead" in shown
    assert "m-06" in shown
    plain = cli(["journal", "tail", "--journal", str(journal)]).stdout
    assert "\x1b[" not in plain
