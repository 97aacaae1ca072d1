"""A server's tools as they are now, and servers that want headers (T1).

A session caches its server's tool listing; a call naming a tool the listing lacks (the server
added it since) lists again before it is refused. An `HttpServer`'s `headers` go with every
request (a bearer token), and are never shown: not in its repr, not in an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import actorflow as af
from actorflow import mcp
from actorflow.journal import SQLiteJournal

from .actors import REGISTRY, Call, Caller, ListTools
from .conftest import TOKEN
from .support import calls, stdio_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def registered() -> Iterator[dict[str, mcp.Servers]]:
    yield REGISTRY
    REGISTRY.pop("listing", None)


async def test_t1_a_tool_added_since_the_listing_is_found_by_listing_again(
    tmp_path: Path, call_log: Path, registered: dict[str, mcp.Servers]
) -> None:
    registered["listing"] = mcp.Servers(tools=stdio_server(call_log))
    async with af.ActorSystem(journal=SQLiteJournal(tmp_path / "j.db")) as system:
        caller = await system.spawn(Caller, "listing", name="caller", max_attempts=1)
        listed = await caller.ask(ListTools("tools"), timeout=50)
        assert "echo" not in {t.name for t in listed}
        assert await caller.ask(Call("tools", "grow", {"name": "echo"}), timeout=50) == "added echo"
        # The session listed its tools before `echo` existed; the call lists them again.
        assert await caller.ask(Call("tools", "echo", {"text": "hi"}), timeout=50) == "echo: hi"
        listed = await caller.ask(ListTools("tools"), timeout=50)
        assert "echo" in {t.name for t in listed}
        # A tool that is still not there is refused after that one new listing, unsent.
        with pytest.raises(af.ActorFailed) as failed:
            await caller.ask(Call("tools", "launch", {}), timeout=50)
    assert isinstance(failed.value.__cause__, mcp.UnknownTool)
    assert "'echo'" in str(failed.value.__cause__)
    assert [c["tool"] for c in calls(call_log)] == ["grow", "echo"]


async def test_t1_an_http_server_gets_the_declared_headers_and_they_are_never_shown(
    tmp_path: Path, token_http_url: str, call_log: Path, registered: dict[str, mcp.Servers]
) -> None:
    with_token = mcp.HttpServer(token_http_url, headers={"Authorization": f"Bearer {TOKEN}"})
    without = mcp.HttpServer(token_http_url, timeout=10)
    registered["listing"] = mcp.Servers(open=with_token, shut=without)
    assert TOKEN not in repr(with_token)
    async with af.ActorSystem(journal=SQLiteJournal(tmp_path / "j.db")) as system:
        caller = await system.spawn(Caller, "listing", name="caller", max_attempts=1)
        found = await caller.ask(Call("open", "lookup", {"q": "otp"}), timeout=50)
        assert found == "found otp"
        with pytest.raises(af.ActorFailed) as failed:
            await caller.ask(Call("shut", "lookup", {"q": "otp"}), timeout=50)
    error = failed.value.__cause__
    assert isinstance(error, mcp.ServerUnavailable)
    assert error.server == "shut"
    assert "'shut'" in str(error)
    assert "did not start" in str(error)
    assert TOKEN not in str(error)
    assert [c["tool"] for c in calls(call_log)] == ["lookup"]  # only the one with its token


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        ([("Authorization", "x")], "a mapping of header names to values, not a list"),
        ({"X-Retries": 3}, "'X-Retries' is str with a int value"),
    ],
)
def test_t1_bad_headers_are_refused_when_declared(headers: object, said: str) -> None:
    with pytest.raises(TypeError, match=said):
        mcp.HttpServer("http://127.0.0.1:9/mcp", headers=headers)  # type: ignore[arg-type]
