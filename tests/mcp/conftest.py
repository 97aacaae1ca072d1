from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from .support import ROOT, free_port, server_command


@pytest.fixture
def anyio_backend() -> Any:
    """One loop here, asyncio+uvloop (what `actorflow run` uses): every test starts real MCP
    server processes, and the SDK's client code is the same anyio code on either loop; the
    runtime's own tests cover both loops. Halves these tests' share of `make test`."""
    return ("asyncio", {"use_uvloop": True})


@pytest.fixture
def call_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file the test server counts its calls in (its stdio children inherit the variable)."""
    path = tmp_path / "calls.jsonl"
    monkeypatch.setenv("MCP_TEST_CALLS", str(path))
    return path


TOKEN = "s3cret-token-for-the-test"
"""The bearer token the `token_http_url` server wants."""


@pytest.fixture
def http_url(call_log: Path) -> Iterator[str]:
    """The test server over streamable HTTP, as a real subprocess on a free loopback port."""
    with _http_server(dict(os.environ)) as url:
        yield url


@pytest.fixture
def token_http_url(call_log: Path) -> Iterator[str]:
    """The same, answering 401 to requests without ``Authorization: Bearer {TOKEN}``."""
    with _http_server({**os.environ, "MCP_TEST_TOKEN": TOKEN}) as url:
        yield url


@contextlib.contextmanager
def _http_server(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        server_command("http", str(port)), cwd=ROOT, env=env, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        _wait_listening(process, port)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stderr is not None
        process.stderr.close()


def _wait_listening(process: subprocess.Popen[bytes], port: int) -> None:
    """Until the server accepts connections (a real signal: a TCP connect), or it exited."""
    for _ in range(2000):
        if process.poll() is not None:
            raise RuntimeError(f"the test MCP server exited with {process.returncode}")
        try:
            httpx2.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            return
        except httpx2.TransportError:
            process_wait(process)
    raise RuntimeError("the test MCP server did not listen")


def process_wait(process: subprocess.Popen[bytes]) -> None:
    """Give the server a moment: wait on the process itself, which returns early if it exits."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=0.01)
