"""SIGKILL of a real `actorflow run` process around a tool call (T1, T2, J4).

The test MCP server counts every call it receives: a recorded call is never made again; a call
in flight at the kill is made again once when the tool is idempotent, and ends as a
`ToolOutcomeUnknown` dead letter when it is not.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from actorflow import mcp

from .support import ROOT, calls


def environment(
    tmp_path: Path, tool: str, arguments: dict[str, Any], **extra: str
) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ACTORFLOW_CRASH_AT", None)
    env.update(
        MCP_TEST_CALLS=str(tmp_path / "calls.jsonl"),
        MCP_TEST_HOLD=str(tmp_path / "hold"),
        MCP_APP_TOOL=tool,
        MCP_APP_ARGUMENTS=json.dumps(arguments),
        **extra,
    )
    return env


def command(tmp_path: Path) -> list[str]:
    journal = str(tmp_path / "app.db")
    return [
        sys.executable,
        "-m",
        "actorflow",
        "run",
        "tests.apps.mcp_app:main",
        "--journal",
        journal,
    ]


def finish(tmp_path: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run the app again, undisturbed, to the end: what it printed last."""
    done = subprocess.run(
        command(tmp_path), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return report


def kill_in_flight(tmp_path: Path, env: dict[str, str]) -> None:
    """Start the app with the server holding calls; SIGKILL it once the call has arrived."""
    hold = tmp_path / "hold"
    hold.touch()
    process = subprocess.Popen(
        command(tmp_path), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not calls(tmp_path / "calls.jsonl"):  # the server's own record of the call
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the call never reached the server"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()
        hold.unlink()


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("tool", "arguments"), [("charge", {"amount": 5}), ("lookup", {"q": "a"})])
def test_t1_a_call_recorded_before_a_sigkill_is_never_made_again(
    tmp_path: Path, tool: str, arguments: dict[str, Any]
) -> None:
    env = environment(tmp_path, tool, arguments)
    crashed = subprocess.run(
        command(tmp_path),
        cwd=ROOT,
        env={**env, "ACTORFLOW_CRASH_AT": "step.after_record:1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    report = finish(tmp_path, env)
    expected = "charged 5" if tool == "charge" else "found a"
    assert report == {"results": [expected], "dead": []}
    assert [call["tool"] for call in calls(tmp_path / "calls.jsonl")] == [tool]


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("tool", "arguments"), [("put", {"key": "k"}), ("lookup", {"q": "a"})])
def test_t2_an_idempotent_call_in_flight_at_a_sigkill_is_made_again_once(
    tmp_path: Path, tool: str, arguments: dict[str, Any]
) -> None:
    env = environment(tmp_path, tool, arguments)
    kill_in_flight(tmp_path, env)
    report = finish(tmp_path, env)
    expected = "stored k" if tool == "put" else "found a"
    assert report == {"results": [expected], "dead": []}
    made = calls(tmp_path / "calls.jsonl")
    assert [call["tool"] for call in made] == [tool, tool]
    keys = {call["meta"][mcp.IDEMPOTENCY_KEY] for call in made}
    assert keys == {f"do-1/mcp tools/{tool}"}  # the same key both times, for the server to use


@pytest.mark.timeout(180)
def test_t2_a_non_idempotent_call_in_flight_at_a_sigkill_ends_as_tool_outcome_unknown(
    tmp_path: Path,
) -> None:
    env = environment(tmp_path, "charge", {"amount": 9})
    kill_in_flight(tmp_path, env)
    report = finish(tmp_path, env)
    assert report["results"] == []
    (error,) = report["dead"]
    assert error.startswith("ToolOutcomeUnknown: tool 'charge' of MCP server 'tools'"), error
    assert [call["tool"] for call in calls(tmp_path / "calls.jsonl")] == ["charge"]
    journal = str(tmp_path / "app.db")
    listed = subprocess.run(
        [sys.executable, "-m", "actorflow", "journal", "dead", "--json", "--journal", journal],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    (dead,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert dead["id"] == "do-1"
    assert dead["error"].startswith("ToolOutcomeUnknown"), dead["error"]
    assert dead["attempts"] == 2  # the killed attempt and exactly one more (S7: not retryable)
