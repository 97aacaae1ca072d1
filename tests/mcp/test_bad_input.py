"""Bad input to MCP calls (T1, T2): each is a typed error naming the server and the tool, and
nothing that failed is recorded as a success."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import actorflow as af
from actorflow import mcp
from actorflow.journal import SQLiteJournal

from .actors import REGISTRY, Call, Caller
from .support import calls, stdio_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def servers(call_log: Path) -> Iterator[mcp.Servers]:
    REGISTRY["bad"] = found = mcp.Servers(
        tools=stdio_server(call_log),
        missing=mcp.StdioServer(["/nonexistent/mcp-server"]),
        quits=mcp.StdioServer([sys.executable, "-c", "import sys; sys.exit(3)"]),
        nothing=mcp.HttpServer("http://127.0.0.1:9/mcp", timeout=5),
        silent=mcp.StdioServer([sys.executable, "-c", "import sys; sys.stdin.read()"], timeout=2),
    )
    yield found
    del REGISTRY["bad"]


async def failure(tmp_path: Path, call: Call) -> BaseException:
    """What handling `call` once raised, after checking that no step result was recorded."""
    backend = SQLiteJournal(tmp_path / "journal.db")
    async with af.ActorSystem(journal=backend) as system:
        caller = await system.spawn(Caller, "bad", name="caller", max_attempts=1)
        with pytest.raises(af.ActorFailed) as failed:
            await caller.ask(call, timeout=50)
        (letter,) = system.dead_letters
        assert letter.id is not None
        message_id = letter.id
    await backend.open()
    try:
        assert await backend.steps(message_id) == {}  # nothing recorded, not even a marker
    finally:
        await backend.close()
    assert failed.value.__cause__ is not None
    return failed.value.__cause__


@pytest.mark.parametrize("server", ["missing", "quits", "nothing", "silent"])
async def test_t1_a_server_that_does_not_start_is_server_unavailable(
    servers: mcp.Servers, tmp_path: Path, server: str
) -> None:
    error = await failure(tmp_path, Call(server, "charge", {"amount": 1}))
    assert isinstance(error, mcp.ServerUnavailable)
    assert error.server == server
    assert f"MCP server {server!r}" in str(error)
    if server == "silent":  # started, never spoke MCP: given up on, and the system still stops
        assert "did not answer within 2 s" in str(error)


async def test_t1_an_unknown_server_is_named_with_the_declared_ones(
    servers: mcp.Servers, tmp_path: Path
) -> None:
    error = await failure(tmp_path, Call("nowhere", "lookup", {"q": "a"}))
    assert isinstance(error, mcp.UnknownServer)
    assert "'nowhere'" in str(error)
    assert "tools" in str(error)


async def test_t1_an_unknown_tool_is_refused_before_anything_is_sent(
    servers: mcp.Servers, tmp_path: Path, call_log: Path
) -> None:
    error = await failure(tmp_path, Call("tools", "launch", {}))
    assert isinstance(error, mcp.UnknownTool)
    assert (error.server, error.tool) == ("tools", "launch")
    assert "'charge'" in str(error)  # what the server does list
    assert calls(call_log) == []


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        ({"amount": "five"}, "at amount: 'five' is not of type 'integer'"),
        ({}, "'amount' is a required property"),
    ],
)
async def test_t1_arguments_that_do_not_match_the_schema_are_refused_before_sending(
    servers: mcp.Servers, tmp_path: Path, call_log: Path, arguments: dict[str, object], said: str
) -> None:
    error = await failure(tmp_path, Call("tools", "charge", arguments))
    assert isinstance(error, mcp.ToolArgumentsInvalid)
    assert (error.server, error.tool) == ("tools", "charge")
    assert said in str(error)
    assert calls(call_log) == []


async def test_t1_a_ten_megabyte_result_is_too_large_and_not_recorded(
    servers: mcp.Servers, tmp_path: Path, call_log: Path
) -> None:
    error = await failure(tmp_path, Call("tools", "big", {"size": 10_000_000}))
    assert isinstance(error, mcp.ToolResultTooLarge)
    assert (error.server, error.tool) == ("tools", "big")
    assert "max_result_bytes" in str(error)
    assert len(calls(call_log)) == 1


async def test_t2_a_server_that_dies_mid_call_is_a_typed_error_and_no_success(
    servers: mcp.Servers, tmp_path: Path, call_log: Path
) -> None:
    backend = SQLiteJournal(tmp_path / "journal.db")
    async with af.ActorSystem(journal=backend) as system:
        caller = await system.spawn(Caller, "bad", name="caller", max_attempts=1)
        with pytest.raises(af.ActorFailed) as failed:
            await caller.ask(Call("tools", "die"), timeout=50)
    error = failed.value.__cause__
    assert isinstance(error, mcp.ToolOutcomeUnknown)
    assert (error.server, error.tool) == ("tools", "die")
    await backend.open()
    try:
        (letter,) = await backend.dead_letters()
        assert await backend.steps(letter.id) == {"mcp tools/die": b""}  # started, no result
    finally:
        await backend.close()


def test_t1_server_declarations_are_checked_when_made() -> None:
    with pytest.raises(ValueError, match="non-empty list"):
        mcp.StdioServer("python server.py")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty list"):
        mcp.StdioServer([])
    with pytest.raises(ValueError, match="http:// or https://"):
        mcp.HttpServer("127.0.0.1:8000/mcp")
    with pytest.raises(ValueError, match="timeout"):
        mcp.HttpServer("http://127.0.0.1:8000/mcp", timeout=0)
    with pytest.raises(TypeError, match="StdioServer or an HttpServer"):
        mcp.Servers(search="python server.py")  # type: ignore[arg-type]


async def test_t2_an_http_server_that_dies_mid_call_is_a_typed_error_and_no_success(
    http_url: str, tmp_path: Path, call_log: Path
) -> None:
    """Over streamable HTTP the server process exits inside the call (the `die` tool): the
    POST's connection drops with no answer. The outcome is unknown: `ToolOutcomeUnknown`, the
    started marker and no result, the call made once (T2)."""
    REGISTRY["http-dies"] = mcp.Servers(tools=mcp.HttpServer(http_url, timeout=20))
    try:
        backend = SQLiteJournal(tmp_path / "journal.db")
        async with af.ActorSystem(journal=backend) as system:
            caller = await system.spawn(Caller, "http-dies", name="caller", max_attempts=3)
            with pytest.raises(af.ActorFailed) as failed:
                await caller.ask(Call("tools", "die"), timeout=50)
    finally:
        del REGISTRY["http-dies"]
    error = failed.value.__cause__
    assert isinstance(error, mcp.ToolOutcomeUnknown)
    assert (error.server, error.tool) == ("tools", "die")
    assert "Connection closed" in str(error)
    await backend.open()
    try:
        (letter,) = await backend.dead_letters()
        assert letter.attempts == 1  # not retryable: dead at once (S7)
        assert await backend.steps(letter.id) == {"mcp tools/die": b""}  # started, no result
    finally:
        await backend.close()
    assert [c["tool"] for c in calls(call_log)] == ["die"]


async def test_t2_a_call_answered_too_late_is_lost_and_the_connection_kept(
    tmp_path: Path, call_log: Path
) -> None:
    """A server slower than its `timeout`: the call is lost (T2: not repeated for a tool that
    may not repeat, its started marker stays), and the connection serves the next call."""
    hold = tmp_path / "hold"  # while it exists, the server counts each call, then holds it
    REGISTRY["slow"] = mcp.Servers(
        tools=stdio_server(call_log, env={"MCP_TEST_HOLD": str(hold)}, timeout=3)
    )
    backend = SQLiteJournal(tmp_path / "journal.db")
    try:
        async with af.ActorSystem(journal=backend) as system:
            caller = await system.spawn(Caller, "slow", name="caller", max_attempts=1)
            assert await caller.ask(Call("tools", "lookup", {"q": "warm"}), timeout=50) == (
                "found warm"
            )  # connected: the listing and the first call are not what times out below
            hold.touch()
            with pytest.raises(af.ActorFailed) as failed:
                await caller.ask(Call("tools", "charge", {"amount": 1}), timeout=50)
            hold.unlink()
            assert await caller.ask(Call("tools", "lookup", {"q": "after"}), timeout=50) == (
                "found after"
            )
    finally:
        del REGISTRY["slow"]
    error = failed.value.__cause__
    assert isinstance(error, mcp.ToolOutcomeUnknown)
    assert (error.server, error.tool) == ("tools", "charge")
    assert "no answer within 3 s" in str(error)
    assert [call["tool"] for call in calls(call_log)] == ["lookup", "charge", "lookup"]
    await backend.open()
    try:
        (letter,) = await backend.dead_letters()
        assert await backend.steps(letter.id) == {"mcp tools/charge": b""}  # started, no result
    finally:
        await backend.close()
