"""Calling MCP tools from handlers (T1, T2): real servers over stdio and streamable HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import actorflow as af
from actorflow import mcp
from actorflow.journal import JournalReader, SQLiteJournal

from .actors import REGISTRY, Call, Caller
from .support import calls, stdio_server

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["stdio", "http"])
def servers(request: pytest.FixtureRequest, call_log: Path) -> Iterator[mcp.Servers]:
    if request.param == "stdio":
        server: mcp.Server = stdio_server(call_log)
    else:
        server = mcp.HttpServer(request.getfixturevalue("http_url"))
    REGISTRY["t"] = found = mcp.Servers(tools=server)
    yield found
    del REGISTRY["t"]


def journal(tmp_path: Path) -> SQLiteJournal:
    return SQLiteJournal(tmp_path / "journal.db")


async def test_t1_a_call_is_recorded_once_and_a_re_run_returns_the_record(
    servers: mcp.Servers, call_log: Path, tmp_path: Path
) -> None:
    async with af.ActorSystem(journal=journal(tmp_path)) as system:
        caller = await system.spawn(Caller, "t", name="caller")
        text = await caller.ask(Call("tools", "lookup", {"q": "otp"}, fail_first=True), timeout=30)
        assert text == "found otp"  # the second attempt's reply, from the record
        assert caller.statistics().failed == 1
    (call,) = calls(call_log)
    assert call["tool"] == "lookup"
    assert call["arguments"] == {"q": "otp"}


async def test_t1_meta_carries_the_message_and_step_as_idempotency_key(
    servers: mcp.Servers, call_log: Path, tmp_path: Path
) -> None:
    async with af.ActorSystem(journal=journal(tmp_path)) as system:
        caller = await system.spawn(Caller, "t", name="caller")
        await caller.tell(Call("tools", "charge", {"amount": 5}), id="pay-1")
        await caller.tell(Call("tools", "charge", {"amount": 6}), id="pay-2")
        await system.wait_idle()
    keys = [call["meta"][mcp.IDEMPOTENCY_KEY] for call in calls(call_log)]
    assert keys == ["pay-1/mcp tools/charge", "pay-2/mcp tools/charge"]


async def test_r1_a_call_records_the_digest_of_its_server_tool_and_arguments(
    servers: mcp.Servers, tmp_path: Path
) -> None:
    async with af.ActorSystem(journal=journal(tmp_path)) as system:
        caller = await system.spawn(Caller, "t", name="caller")
        await caller.tell(Call("tools", "lookup", {"q": "otp"}), id="look-1")
        await caller.tell(Call("tools", "lookup", {"q": "erlang"}), id="look-2")
        await system.wait_idle()
    with JournalReader.open(tmp_path / "journal.db") as reader:
        (first,) = reader.steps("look-1")
        (second,) = reader.steps("look-2")
    assert first.step == second.step == "mcp tools/lookup"
    assert first.args is not None  # a replay can compare them
    assert second.args is not None
    assert first.args != second.args


async def test_t2_a_non_repeatable_call_is_never_made_twice_even_when_the_message_re_runs(
    servers: mcp.Servers, call_log: Path, tmp_path: Path
) -> None:
    async with af.ActorSystem(journal=journal(tmp_path)) as system:
        caller = await system.spawn(Caller, "t", name="caller")
        text = await caller.ask(Call("tools", "charge", {"amount": 7}, fail_first=True), timeout=30)
        assert text == "charged 7"
    assert [call["tool"] for call in calls(call_log)] == ["charge"]


async def test_t2_a_tool_error_result_is_recorded_and_raised_as_tool_failed(
    servers: mcp.Servers, call_log: Path, tmp_path: Path
) -> None:
    async with af.ActorSystem(journal=journal(tmp_path)) as system:
        caller = await system.spawn(Caller, "t", name="caller", max_attempts=3)
        with pytest.raises(af.ActorFailed) as failed:
            await caller.ask(Call("tools", "refuse", {"reason": "no funds"}), timeout=30)
        error = failed.value.__cause__
        assert isinstance(error, mcp.ToolFailed)
        assert not isinstance(error, (mcp.ToolOutcomeUnknown, mcp.ServerUnavailable))
        assert (error.server, error.tool, error.code) == ("tools", "refuse", None)
        assert error.result.is_error
        assert "no funds" in error.result.text or "refuse" in error.result.text
        (letter,) = system.dead_letters
        assert "ToolFailed" in (letter.error or "")
    # Three attempts, one call: the error is an outcome, replayed from the record.
    assert [call["tool"] for call in calls(call_log)] == ["refuse"]


@pytest.fixture
def stdio(call_log: Path) -> Iterator[mcp.Servers]:
    """Over stdio only: a server that dies is started again by the next call."""
    REGISTRY["stdio"] = found = mcp.Servers(
        tools=stdio_server(call_log),
        policy=stdio_server(call_log, repeatable={"die": True, "lookup": False}),
    )
    yield found
    del REGISTRY["stdio"]


async def test_t2_a_non_repeatable_call_lost_with_its_server_ends_as_tool_outcome_unknown(
    stdio: mcp.Servers, call_log: Path, tmp_path: Path
) -> None:
    async with af.ActorSystem(journal=journal(tmp_path)) as system:
        caller = await system.spawn(Caller, "stdio", name="caller")
        with pytest.raises(af.ActorFailed) as failed:
            await caller.ask(Call("tools", "die"), timeout=30)
        error = failed.value.__cause__
        assert isinstance(error, mcp.ToolOutcomeUnknown)
        assert isinstance(error, af.StepOutcomeUnknown)
        assert (error.server, error.tool) == ("tools", "die")
        (letter,) = system.dead_letters
        assert (letter.error or "").startswith("ToolOutcomeUnknown")
        assert letter.attempts == 1  # not retryable: dead at once, max_attempts=3 or not (S7)
        # The connection is made again for the next call: a new server process.
        assert (
            await caller.ask(Call("tools", "lookup", {"q": "after"}), timeout=30) == "found after"
        )
    assert [call["tool"] for call in calls(call_log)] == ["die", "lookup"]


async def test_t2_a_repeatable_call_lost_to_the_transport_is_retried_then_server_unavailable(
    stdio: mcp.Servers, call_log: Path, tmp_path: Path
) -> None:
    """The per-tool policy makes `die` repeatable: tenacity tries it three times."""
    async with af.ActorSystem(journal=journal(tmp_path)) as system:
        caller = await system.spawn(Caller, "stdio", name="caller", max_attempts=1)
        with pytest.raises(af.ActorFailed) as failed:
            await caller.ask(Call("policy", "die"), timeout=30)
        error = failed.value.__cause__
        assert isinstance(error, mcp.ServerUnavailable)
        assert "'policy'" in str(error)
        assert "die" in str(error)
    assert [call["tool"] for call in calls(call_log)] == ["die", "die", "die"]


async def test_t2_the_policy_can_make_a_read_only_tool_unrepeatable(
    stdio: mcp.Servers, call_log: Path, tmp_path: Path
) -> None:
    async with af.ActorSystem(journal=journal(tmp_path)) as system:
        caller = await system.spawn(Caller, "stdio", name="caller")
        await caller.tell(Call("policy", "lookup", {"q": "a"}), id="m")
        await system.wait_idle()
    backend = journal(tmp_path)
    await backend.open()
    try:
        steps = await backend.steps("m")
    finally:
        await backend.close()
    assert list(steps) == ["mcp policy/lookup"]  # the marker, then the result over it
    assert steps["mcp policy/lookup"] != b""
