"""Every async test runs on asyncio and on asyncio+uvloop (anyio's pytest plugin)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

from .journal.postgres_server import PostgresServer, ServerMissing, postgres_server


@pytest.fixture(
    params=[
        pytest.param(("asyncio", {"use_uvloop": False}), id="asyncio"),
        pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    return request.param


@pytest.fixture(scope="session", autouse=True)
def children_hear_ctrl_c() -> Iterator[None]:
    """Start child processes with SIGINT at its default, as from a terminal.

    A shell without job control starts background commands with SIGINT ignored, and a child
    inherits an ignored signal through exec; Python then installs no KeyboardInterrupt handler
    in it. Tests that press Ctrl-C in a child (``tail --follow``) would wait for ever when the
    suite itself was started in the background. A handled signal is reset to its default on
    exec, so handling it here is enough.
    """
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole session; each test makes its own database
    (`PostgresServer.new_database`). Missing binaries fail the test, saying how to install."""
    try:
        with postgres_server() as server:
            yield server
    except ServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
