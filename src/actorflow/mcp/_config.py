"""How to reach an MCP server: a command to run over stdio, or a streamable-HTTP URL."""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from ._results import ToolInfo

__all__ = ["DEFAULT_MAX_RESULT_BYTES", "HttpServer", "Server", "StdioServer"]

DEFAULT_MAX_RESULT_BYTES = 4 * 1024 * 1024
"""The largest tool result recorded by default (4 MiB, as JSON): a step result is a journal
row, read back whole on a re-run."""


@dataclass(frozen=True, kw_only=True)
class _Options:
    timeout: float = 60.0
    """Seconds to wait for the server to start and for each call's answer."""
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    """The largest result recorded; a larger one raises `ToolResultTooLarge`."""
    repeatable: Mapping[str, bool] = field(default_factory=dict)
    """Per tool: may a call that was in flight at a crash, or lost to a transport error, be
    made again? Overrides the tool's own ``readOnlyHint``/``idempotentHint`` (T2)."""

    def _check(self) -> None:
        if not self.timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {self.timeout!r}")
        if self.max_result_bytes <= 0:
            raise ValueError(f"max_result_bytes must be positive, not {self.max_result_bytes!r}")

    def may_repeat(self, tool: ToolInfo) -> bool:
        """Whether a call of `tool` may be made again when its outcome is unknown (T2)."""
        found = self.repeatable.get(tool.name)
        return tool.read_only or tool.idempotent if found is None else found


@dataclass(frozen=True)
class StdioServer(_Options):
    """An MCP server run as a subprocess of this process, spoken to over its stdin and stdout.

    `command` is the program and its arguments (``[sys.executable, "search_server.py"]``);
    `env` is added to a minimal default environment, `cwd` is where it runs. Started on the
    first call, once per process, and again after it died.
    """

    command: Sequence[str]
    env: Mapping[str, str] | None = None
    cwd: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.command, str) or not self.command:
            raise ValueError(
                f"a StdioServer's command is a non-empty list of program and arguments, not"
                f" {self.command!r}"
            )
        self._check()

    def client(self) -> Client:
        """A new, unconnected SDK client for this server."""
        params = StdioServerParameters(
            command=self.command[0],
            args=list(self.command[1:]),
            env=dict(self.env) if self.env is not None else None,
            cwd=self.cwd,
        )
        return Client(params, cache=None)

    def describe(self) -> str:
        """How the server is reached, for error messages."""
        return f"stdio: {shlex.join(self.command)}"


@dataclass(frozen=True)
class HttpServer(_Options):
    """An MCP server reached over streamable HTTP at `url` (``http://127.0.0.1:8000/mcp``).

    `headers` go with every request: ``{"Authorization": f"Bearer {token}"}`` for a server
    that wants a token. They are left out of the declaration's repr and of every error
    message. Connected on the first call, once per process, and again after the connection
    broke.
    """

    url: str
    headers: Mapping[str, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url.startswith(("http://", "https://")):
            raise ValueError(f"an HttpServer's url is an http:// or https:// URL, not {self.url!r}")
        if self.headers is not None:
            if not isinstance(self.headers, Mapping):
                raise TypeError(
                    "an HttpServer's headers are a mapping of header names to values, not a"
                    f" {type(self.headers).__name__}"
                )
            for name, value in self.headers.items():
                if not isinstance(name, str) or not isinstance(value, str):
                    raise TypeError(
                        f"an HttpServer's header names and values are strings; {name!r} is"
                        f" {type(name).__name__} with a {type(value).__name__} value"
                    )
        self._check()

    def client(self) -> Client:
        """A new, unconnected SDK client for this server."""
        if not self.headers:
            return Client(self.url, cache=None)
        return Client(_with_headers(self.url, dict(self.headers)), cache=None)

    def describe(self) -> str:
        """How the server is reached, for error messages (never with its headers)."""
        return f"streamable HTTP: {self.url}"


@contextlib.asynccontextmanager
async def _with_headers(url: str, headers: dict[str, str]) -> AsyncIterator[Any]:
    """The SDK's streamable-HTTP transport over an HTTP client that sends `headers`, closed
    with it (the timeouts are the SDK's defaults: 30 s, and 300 s to read a held stream)."""
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams


Server = StdioServer | HttpServer
"""Either way of reaching a server."""


def describe_error(exc: BaseException) -> str:
    """One line for an outside error, looking inside exception groups for what happened."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc) or repr(exc)
    return f"{type(exc).__name__}: {text}"
