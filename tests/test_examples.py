"""Every file in examples/ runs, as the docs quote it (STYLE: examples are runnable docs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .journal.postgres_server import PostgresServer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

EXPECTED = {
    "approval.py": ["exp-1: escalated by timer"],  # nobody answers within APPROVAL_WAIT_SECONDS
    "cancelling.py": [
        "cancelled 3 steps and 1 reminder",
        "the worker did: ['long report', 'short note']",
    ],
    "chat_sessions.py": [
        "500 sessions, 1500 messages; all unloaded now",
        "chat-7: reply 4 to 'what did I say first?' (you began with 'message 0 from user 7')",
    ],
    "durable_counter.py": ["value=11 adds=2"],
    "hello.py": ["1: you asked 'hi'", "<ActorRef agent/42 running mailbox 0/1000>"],
    "mcp_planner_tool.py": [
        "tool plan_research: Split a research topic into the questions a research team should"
        " answer.",
        "call 1: plan 1: How is actor runtimes built? | Who uses actor runtimes?",
        "call 2: plan 1: How is actor runtimes built? | Who uses actor runtimes?",  # T3: a retry
    ],
    "rally.py": ["rally-1: 50 turns"],
    # The research team with its search tool on a real MCP server, over stdio (T1).
    "mcp_research.py": [
        "report: How is actor runtimes built? Sources: the design notes and the source code."
        " [bd9793]; Who uses actor runtimes? Sources: user surveys and public case studies."
        " [db74f1] [c63993]"
    ],
    "mcp_search_server.py": [],  # serves stdin until it ends: here at once
    "research_team.py": [
        "report: How is actor runtimes built? Sources: the design notes and the source code."
        " [bd9793]; Who uses actor runtimes? Sources: user surveys and public case studies."
        " [db74f1] [c63993]"
    ],
    "replay_team.py": [
        "5 turns replayed, 0 diverged",
        "5 turns replayed, 5 diverged: planner#1 step plan arguments (+4), worker-1#1 step search"
        " arguments (+5), worker-2#1 step search arguments (+5), planner#2 state.findings (+1),"
        " planner#3 step write arguments (+4)",
    ],
    "supervision.py": [
        "dead letter: tool Call(query='poison') after 2 attempts",
        "plan for 'write a sonnet' using 'result for write a sonnet'",
    ],
}


ON_POSTGRES = {"postgres_journal.py", "durable_counter.py"}
"""Examples that also run on a PostgreSQL journal (its URL given as their argument)."""


ONLY_ON_POSTGRES = {"postgres_journal.py", "two_nodes.py"}
"""Examples that need a PostgreSQL journal: they run only on one."""


def test_every_example_is_covered() -> None:
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(EXPECTED) | ONLY_ON_POSTGRES


@pytest.mark.timeout(90)
def test_two_nodes_share_the_counters_and_go_on_where_the_last_run_stopped(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    """C2, C3, C4: the example's two nodes split the counters, and the second run goes on."""
    url = postgres.new_database()
    runs = [run_example("two_nodes.py", tmp_path, url) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert [r.stdout.splitlines() for r in runs] == [
        ["a runs 4 counters, b runs 4", f"values: [{n}]", "b left; a runs all 8"] for n in (1, 2)
    ]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(ON_POSTGRES))
def test_example_runs_twice_on_postgres(
    name: str, tmp_path: Path, postgres: PostgresServer
) -> None:
    """J5 on PostgreSQL: the second run goes on from the first's committed state."""
    url = postgres.new_database()
    first, second = (run_example(name, tmp_path, url) for _ in range(2))
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    wanted = {
        "postgres_journal.py": ("value=1", "value=2"),
        "durable_counter.py": ("value=11 adds=2", "value=12 adds=3"),
    }[name]
    assert (first.stdout.splitlines()[-1], second.stdout.splitlines()[-1]) == wanted


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name: str, tmp_path: Path) -> None:
    result = run_example(name, tmp_path)
    assert result.returncode == 0, result.stderr
    for line in EXPECTED[name]:
        assert line in result.stdout.splitlines(), result.stdout


# Smaller or faster than their defaults, to keep `make test` short.
ENV = {"APPROVAL_WAIT_SECONDS": "0.2", "CHAT_SESSIONS": "500", "RALLY_TURNS": "50"}


EXAMPLE_SECONDS = 50.0


def run_example(name: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run an example to its end; one that does not end in `EXAMPLE_SECONDS` fails the test
    with all it printed and where each of its threads was (faulthandler, on SIGABRT)."""
    command = [sys.executable, "-X", "faulthandler", "-W", "error", str(EXAMPLES / name), *args]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, **ENV},
        stdin=subprocess.DEVNULL,  # a stdio MCP server ends when its input does
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=EXAMPLE_SECONDS)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            stdout, stderr = process.communicate()
            raise AssertionError(
                f"{name} did not end in {EXAMPLE_SECONDS:g} s"
                f"\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}"
            ) from None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.mark.timeout(60)
def test_the_durable_counter_goes_on_where_the_last_run_stopped(tmp_path: Path) -> None:
    outputs = [run_example("durable_counter.py", tmp_path).stdout.strip() for _ in range(2)]
    assert outputs == ["value=11 adds=2", "value=12 adds=3"]


DOCS = EXAMPLES.parent / "docs"


@pytest.mark.parametrize("name", sorted({*EXPECTED, *ON_POSTGRES, *ONLY_ON_POSTGRES}))
def test_every_example_is_quoted_in_full_by_the_docs(name: str) -> None:
    source = (EXAMPLES / name).read_text()
    pages = [page.read_text() for page in DOCS.glob("*.md")]
    assert any(f"```python\n{source}```" in page for page in pages), name
