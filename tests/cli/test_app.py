"""The ``actorflow`` command itself: help on every command, --version, --debug, bad commands."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

import actorflow as af

from .support import assert_one_error_line, cli

PYTHON_M_ACTORFLOW = [sys.executable, "-W", "error", "-m", "actorflow"]
COMMANDS = [
    "stats",
    "actors",
    "messages",
    "show",
    "state",
    "dead",
    "requeue",
    "tail",
    "export",
    "conversation",
    "compact",
    "conversations",
    "steps",
    "timers",
]


@pytest.mark.parametrize(
    "command", [[], ["journal"], ["run"], ["send"], *(["journal", c] for c in COMMANDS)]
)
def test_every_command_has_help(command: list[str]) -> None:
    result = cli([*command, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: actorflow")
    assert result.stderr == ""


def test_the_journal_group_lists_every_command() -> None:
    listed = cli(["journal", "--help"]).stdout
    for command in COMMANDS:
        assert f"  {command} " in listed, command


def test_help_lists_the_commands_and_completion() -> None:
    top = " ".join(cli(["--help"]).stdout.split())
    assert "run Run an application's actors under a supervisor" in top
    assert "send Send a message of type TYPE, given as JSON" in top
    assert "ui Serve a web UI over the journal" in top
    assert "_ACTORFLOW_COMPLETE=bash_source actorflow" in top
    assert "not built" not in top
    requeue = " ".join(cli(["journal", "requeue", "--help"]).stdout.split())
    assert "leaves a notice for a running system (J11)" in requeue


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("actorflow ", ["journal", "mcp", "replay", "run", "send", "ui"]),
        ("actorflow journal co", ["compact", "conversation", "conversations"]),
        ("actorflow send --journal {journal} ", ["alice", "bob", "carol"]),
        ("actorflow send --journal {journal} --no", ["--no-wake"]),
    ],
)
def test_shell_completion(journal: Path, words: str, expected: list[str]) -> None:
    source = subprocess.run(
        PYTHON_M_ACTORFLOW,
        env={**os.environ, "_ACTORFLOW_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "complete -o nosort -F _actorflow_completion actorflow" in source.stdout
    line = words.format(journal=journal)
    completed = subprocess.run(
        PYTHON_M_ACTORFLOW,
        env={
            **os.environ,
            "_ACTORFLOW_COMPLETE": "bash_complete",
            "COMP_WORDS": line,
            "COMP_CWORD": str(len(line.split(" ")) - 1),
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert completed.stderr == ""
    assert completed.stdout.split() == [f"plain,{word}" for word in expected]


def test_version_is_the_installed_distribution_version() -> None:
    result = cli(["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"actorflow {importlib.metadata.version('actorflow')}\n"
    assert importlib.metadata.version("actorflow") == af.__version__


def test_an_unknown_command_is_a_usage_error() -> None:
    assert_one_error_line(cli(["journal", "nope"]), 2, "No such command 'nope'", "--help")


def test_an_unknown_option_is_a_usage_error() -> None:
    assert_one_error_line(cli(["journal", "stats", "--nope"]), 2, "--nope")


def test_no_command_shows_the_help() -> None:
    result = cli([])
    assert result.exit_code == 2
    assert "Usage: actorflow" in result.output


def test_debug_re_raises_the_failure(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    plain = cli(["journal", "stats", "--journal", str(missing)])
    assert_one_error_line(plain, 1, "no journal at")
    debug = cli(["--debug", "journal", "stats", "--journal", str(missing)])
    assert debug.exit_code == 1
    assert isinstance(debug.exception, af.JournalError)
    assert "no journal at" in str(debug.exception)


def test_python_dash_m_runs_the_cli(journal: Path) -> None:
    result = subprocess.run(
        [*PYTHON_M_ACTORFLOW, "journal", "stats", "--journal", str(journal), "--json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert '"messages":{"pending":2,"done":3,"dead":1,"cancelled":0}' in result.stdout


def test_python_dash_m_reports_a_failure_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PYTHON_M_ACTORFLOW, "journal", "stats", "--journal", str(tmp_path / "missing.db")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("actorflow: error: no journal at ")
    assert result.stderr.count("\n") == 1
