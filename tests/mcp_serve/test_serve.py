"""``actorflow mcp serve`` as a real process, driven by the MCP SDK's own client (T3).

Over stdio and over streamable HTTP on 127.0.0.1: tools listed with their message types' JSON
schemas; a call and its reply as structured content; a retry with the same idempotency key or
the same request id is one message in the journal, answered from the journal; a failing
handler is a tool error result and the server goes on; progress while a call waits; bad
arguments and unknown tools are tool errors.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from actorflow.mcp import IDEMPOTENCY_KEY
from tests.apps.tools import Plan, Steps

from .support import (
    APP,
    ROOT,
    SERVE,
    env,
    expected_input_schema,
    expected_output_schema,
    http_server,
    journal_messages,
    stdio_client,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


def of_type(messages: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] == tag]


async def exercise(client: Client) -> None:
    """What both transports must do, against tests/apps/tools.py."""
    listed = {t.name: t for t in (await client.list_tools()).tools}
    assert set(listed) == {"plan", "fail", "wait_for_gate", "open_gate"}  # counter: not marked
    plan = listed["plan"]
    assert plan.description == "Break a topic into research steps."
    assert plan.input_schema == expected_input_schema(Plan)
    assert plan.output_schema == expected_output_schema(Steps)

    # A call: the reply as structured content (and as JSON text).
    meta: Any = {IDEMPOTENCY_KEY: "plan-1"}
    first = await client.call_tool("plan", {"topic": "actors", "depth": 3}, meta=meta)
    assert not first.is_error
    assert first.structured_content == {
        "type": "tools.Steps",
        "topic": "actors",
        "steps": ["actors: question 1", "actors: question 2", "actors: question 3"],
    }
    assert json.loads(first.content[0].text) == first.structured_content  # type: ignore[union-attr]

    # The same idempotency key again: the recorded reply, not a second message.
    again = await client.call_tool("plan", {"topic": "actors", "depth": 3}, meta=meta)
    assert again.structured_content == first.structured_content

    # The same key with other arguments is refused, not answered with the first call's reply.
    reused = await client.call_tool("plan", {"topic": "something else"}, meta=meta)
    assert reused.is_error
    text = reused.content[0].text  # type: ignore[union-attr]
    assert text == (
        "call mcp:plan:key:plan-1 was made before with other arguments: a retry must send the"
        " same ones (or use a new idempotency key)"
    )

    # A failing handler is a tool error with its error; the server goes on serving.
    failed = await client.call_tool("fail", {"reason": "no budget left"})
    assert failed.is_error
    assert "RuntimeError: no budget left" in failed.content[0].text  # type: ignore[union-attr]
    after = await client.call_tool("plan", {"topic": "after"})
    assert not after.is_error
    assert after.structured_content["steps"] == ["after: question 1", "after: question 2"]

    # Bad arguments name the field, from msgspec's validation; nothing is sent.
    bad = await client.call_tool("plan", {"topic": 7})
    assert bad.is_error
    text = bad.content[0].text  # type: ignore[union-attr]
    assert text == "invalid arguments for tool 'plan': Expected `str`, got `int` - at `$.topic`"
    missing = await client.call_tool("plan", {})
    assert missing.is_error
    assert "Object missing required field `topic`" in missing.content[0].text  # type: ignore[union-attr]

    # An idempotency key that is not a short string is refused, not ignored.
    for bad_key in (7, "", "k" * 257):
        refused = await client.call_tool("plan", {"topic": "x"}, meta={IDEMPOTENCY_KEY: bad_key})
        assert refused.is_error
        assert "must be a string of 1 to 256 characters" in refused.content[0].text  # type: ignore[union-attr]

    # An unknown tool is a tool error naming what is served.
    unknown = await client.call_tool("nope", {})
    assert unknown.is_error
    assert unknown.content[0].text == (  # type: ignore[union-attr]
        "unknown tool 'nope'; this server serves: fail, open_gate, plan, wait_for_gate"
    )

    # Progress while a call waits: the gate opens once the client has heard some.
    heard: list[tuple[float, str | None]] = []
    some = anyio.Event()

    async def progress(value: float, total: float | None, message: str | None) -> None:
        heard.append((value, message))
        if len(heard) >= 2:
            some.set()

    async with anyio.create_task_group() as group:

        async def open_gate() -> None:
            await some.wait()
            opened = await client.call_tool("open_gate", {})
            assert not opened.is_error

        group.start_soon(open_gate)
        waited = await client.call_tool("wait_for_gate", {}, progress_callback=progress)
    assert waited.structured_content == {"result": "the gate is open"}
    assert len(heard) >= 2
    values = [value for value, _ in heard]
    assert values == sorted(values)  # it only goes up
    assert len(set(values)) == len(values)
    assert all(message and "slow is handling the call" in message for _, message in heard)


def check_journal(journal: Path) -> None:
    messages = journal_messages(journal)
    plans = of_type(messages, "tools.Plan")
    # Two calls of plan handled (one of them retried), none for the bad arguments.
    assert len(plans) == 2
    assert all(m["status"] == "done" for m in plans)
    assert all(m["cause"].startswith("mcp:plan:") for m in plans)  # J7: caused by the call
    calls = [m for m in of_type(messages, "actorflow.mcp.ToolCall") if m["id"].endswith("plan-1")]
    assert [m["id"] for m in calls] == ["mcp:plan:key:plan-1"]
    assert [m["status"] for m in of_type(messages, "tools.Boom")] == ["dead"]


async def test_t3_served_over_stdio(tmp_path: Path) -> None:
    journal = tmp_path / "tools.db"
    async with stdio_client(journal) as client:
        await exercise(client)
    check_journal(journal)


async def test_t3_served_over_streamable_http(tmp_path: Path) -> None:
    journal = tmp_path / "tools.db"
    async with http_server(journal) as (url, _), Client(url) as client:
        await exercise(client)
    check_journal(journal)


async def test_t3_a_retry_of_the_same_request_id_is_one_message(tmp_path: Path) -> None:
    """A client that sends the same JSON-RPC request again (its connection's retry) gets the
    recorded reply; the handler ran once. Raw JSON-RPC lines over stdio: the SDK's client never
    reuses a request id."""
    journal = tmp_path / "tools.db"
    call = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "plan", "arguments": {"topic": "retry"}},
    }
    lines = [
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        call,
    ]
    async with await anyio.open_process(
        [sys.executable, *SERVE, APP, "--journal", str(journal)], cwd=ROOT, env=env()
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        replies = _replies(process.stdout)
        for line in lines:
            await process.stdin.send(json.dumps(line).encode() + b"\n")
        with anyio.fail_after(30):
            assert (await anext(replies))["id"] == 0
            first = await anext(replies)
            await process.stdin.send(json.dumps(call).encode() + b"\n")
            second = await anext(replies)
        await process.stdin.aclose()
        with anyio.fail_after(30):
            assert await process.wait() == 0
    assert first["id"] == second["id"] == 7
    steps = first["result"]["structuredContent"]["steps"]
    assert steps == ["retry: question 1", "retry: question 2"]
    assert second["result"] == first["result"]
    messages = journal_messages(journal)
    assert len(of_type(messages, "tools.Plan")) == 1
    assert len(of_type(messages, "actorflow.mcp.ToolCall")) == 1


async def test_t3_sigint_stops_a_stdio_server_whose_client_is_still_there(tmp_path: Path) -> None:
    """SIGINT while the client keeps stdin open: a graceful stop, exit 0 (P1), not a wait for
    the client's next line."""
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    async with await anyio.open_process(
        [sys.executable, *SERVE, APP, "--journal", str(tmp_path / "tools.db")], cwd=ROOT, env=env()
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        await process.stdin.send(json.dumps(init).encode() + b"\n")
        with anyio.fail_after(30):
            assert (await anext(_replies(process.stdout)))["id"] == 0
        process.send_signal(2)
        with anyio.fail_after(30):
            assert await process.wait() == 0


async def test_t3_a_call_in_flight_at_a_kill_is_handled_after_the_restart(tmp_path: Path) -> None:
    """SIGKILL while a call waits: the next server on the journal handles the recovered call
    (J5) and records its outcome; the client's retry (same key) gets it. The actor saw that
    call's message twice, as docs/mcp-serving.md says (at least once across a crash)."""
    journal = tmp_path / "tools.db"
    key: Any = {IDEMPOTENCY_KEY: "in-flight", "progressToken": "p"}
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "wait_for_gate", "arguments": {}, "_meta": key},
    }
    async with await anyio.open_process(
        [sys.executable, *SERVE, APP, "--journal", str(journal)], cwd=ROOT, env=env()
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        for line in (init, {"jsonrpc": "2.0", "method": "notifications/initialized"}, call):
            await process.stdin.send(json.dumps(line).encode() + b"\n")
        with anyio.fail_after(30):
            async for message in _replies(process.stdout):
                if message.get("method") == "notifications/progress":
                    break  # the call is committed and waiting for the slow actor
        process.kill()
        await process.wait()
    async with stdio_client(journal) as client, anyio.create_task_group() as group:
        outcomes = []

        async def retry() -> None:
            outcomes.append(await client.call_tool("wait_for_gate", {}, meta=key))

        group.start_soon(retry)
        opened = await client.call_tool("open_gate", {})
        assert not opened.is_error
    (outcome,) = outcomes
    assert outcome.structured_content == {"result": "the gate is open"}
    messages = journal_messages(journal)
    calls = of_type(messages, "actorflow.mcp.ToolCall")
    (sent,) = [m for m in calls if m["recipient"] == "actorflow.mcp/wait_for_gate"]
    assert sent["id"] == "mcp:wait_for_gate:key:in-flight"
    assert sent["status"] == "done"
    waits = of_type(messages, "tools.Wait")
    assert len(waits) == 2  # asked before the kill, and again by the recovered call
    assert all(m["cause"] == sent["id"] for m in waits)


async def _replies(stream: Any) -> Any:
    buffer = b""
    async for chunk in stream:
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield json.loads(line)


async def test_t3_a_retry_after_a_restart_is_answered_from_the_journal(tmp_path: Path) -> None:
    """The same idempotency key, sent to a new server process on the same journal."""
    journal = tmp_path / "tools.db"
    meta: Any = {IDEMPOTENCY_KEY: "across-restarts"}
    replies = []
    for _ in range(2):
        async with stdio_client(journal) as client:
            replies.append(await client.call_tool("plan", {"topic": "restart"}, meta=meta))
    assert replies[0].structured_content == replies[1].structured_content
    assert len(of_type(journal_messages(journal), "tools.Plan")) == 1


def serve_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actorflow", "mcp", "serve", *args],
        cwd=cwd,
        env=env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["tests.apps.nothing_here:main"], 2, "no module 'tests.apps.nothing_here'"),
        (["tests.apps.tools:absent"], 2, "tests.apps.tools has no 'absent'"),
        (["tests.apps.tools"], 2, "is not MODULE:FACTORY"),
        (["tests.apps.tools:main", "--http", "0.0.0.0:8123"], 2, "refusing to serve on 0.0.0.0"),
        (["tests.apps.tools:main", "--http", "8123"], 2, "is not HOST:PORT"),
    ],
)
def test_t3_bad_command_lines_are_one_line(args: list[str], code: int, says: str) -> None:
    result = serve_cli(*args)
    assert result.returncode == code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("actorflow: error: ")
    assert says in lines[0]


def test_t3_a_bad_journal_path_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "not-a-journal.db").write_text("hello, I am not SQLite\n" * 100)
    for journal, says in [
        (tmp_path / "missing-dir" / "j.db", "j.db"),
        (tmp_path / "not-a-journal.db", "not-a-journal.db"),
    ]:
        result = serve_cli("tests.apps.tools:main", "--journal", str(journal))
        assert result.returncode == 1, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("actorflow: error: ")
        assert says in lines[0], lines[0]


def test_t3_a_setup_that_fails_is_one_line(tmp_path: Path) -> None:
    """Its client still connected (stdin open), the server ends by itself, exit status 1."""
    with subprocess.Popen(
        [sys.executable, *SERVE, "tests.apps.tools:broken", "--journal", str(tmp_path / "j.db")],
        cwd=ROOT,
        env=env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            status = server.wait(timeout=30)  # stdin stays open: no EOF ends it
            assert server.stderr is not None
            stderr = server.stderr.read()
        finally:
            server.kill()
    assert status == 1, stderr
    assert stderr.splitlines()[-1] == (
        "actorflow: error: the application's setup failed: LookupError: no model configured"
    )
    assert "Traceback" not in stderr


def test_t3_a_port_in_use_is_one_line() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = serve_cli("tests.apps.tools:main", "--http", f"127.0.0.1:{port}")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in lines[0]


async def test_t3_a_retry_of_the_same_request_id_in_an_http_session_is_one_message(
    tmp_path: Path,
) -> None:
    """The same over streamable HTTP: the request id within the Mcp-Session-Id the server gave.
    Raw JSON-RPC posts (httpx2, the SDK's own HTTP client), for the same reason."""
    import httpx2

    journal = tmp_path / "tools.db"
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    call = {
        "jsonrpc": "2.0",
        "id": 5,
        "method": "tools/call",
        "params": {"name": "plan", "arguments": {"topic": "http retry"}},
    }
    async with http_server(journal) as (url, _), httpx2.AsyncClient(timeout=30) as http:
        opened = await http.post(url, headers=headers, json=init)
        session = opened.headers["mcp-session-id"]
        headers |= {"mcp-session-id": session, "mcp-protocol-version": "2025-06-18"}
        await http.post(
            url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"}
        )
        replies = [
            _event_data((await http.post(url, headers=headers, json=call)).text) for _ in range(2)
        ]
    assert replies[0]["id"] == replies[1]["id"] == 5
    assert replies[0]["result"]["structuredContent"]["topic"] == "http retry"
    assert replies[1]["result"] == replies[0]["result"]
    messages = journal_messages(journal)
    assert len(of_type(messages, "tools.Plan")) == 1
    (sent,) = of_type(messages, "actorflow.mcp.ToolCall")
    assert sent["id"] == f"mcp:plan:request:{session}:5"


def _event_data(body: str) -> Any:
    """The JSON-RPC message in a server-sent-events response body."""
    (data,) = [
        line.removeprefix("data: ") for line in body.splitlines() if line.startswith("data: ")
    ]
    return json.loads(data)
