"""`Connection`: one process's session with one MCP server, opened lazily, reopened after a
failure, with the server's tool listing cached for as long as the session lasts (and listed
again when a call names a tool, or arguments, that the cached listing does not allow)."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import mcp_types
from anyio.abc import TaskGroup
from mcp.client import Client
from mcp.shared.exceptions import MCPError as SDKError

from ._arguments import ArgumentCheck
from ._config import Server, describe_error
from ._errors import ServerUnavailable, ToolArgumentsInvalid, UnknownTool
from ._results import ToolInfo, ToolResult

__all__ = ["Connection", "Lost"]

logger = logging.getLogger("actorflow.mcp")


class Lost(Exception):
    """A call went out (or may have) and its answer never came: the outcome is unknown."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Session:
    """One connected SDK client, held open by a task of its own until told to close."""

    __slots__ = ("client", "closed", "error", "ready", "scope", "stop", "tools")

    def __init__(self) -> None:
        self.ready = anyio.Event()
        self.stop = anyio.Event()
        self.closed = anyio.Event()
        self.scope = anyio.CancelScope()
        self.client: Client | None = None
        self.error: BaseException | None = None
        self.tools: dict[str, tuple[ToolInfo, ArgumentCheck]] | None = None

    async def hold(self, client: Client) -> None:
        try:
            with self.scope:
                async with client:
                    self.client = client
                    self.ready.set()
                    await self.stop.wait()
        except Exception as exc:
            self.error = exc  # before ready: it did not start; after: it broke
        finally:
            self.client = None
            self.ready.set()
            self.closed.set()

    def close(self) -> None:
        """Let the session end; one still connecting (a server that never answers) is
        cancelled, so that nothing waits for it."""
        self.stop.set()
        if not self.ready.is_set():
            self.scope.cancel()


class Connection:
    """The session with server `name`; opened on first use, in the pool's task group."""

    def __init__(self, name: str, server: Server, tg: TaskGroup) -> None:
        self.name = name
        self.server = server
        self._tg = tg
        self._session: _Session | None = None
        self._opening: _Session | None = None
        self._lock = anyio.Lock()

    def _unavailable(self, what: str, exc: BaseException | None = None) -> ServerUnavailable:
        reason = "" if exc is None else f": {describe_error(exc)}"
        return ServerUnavailable(
            f"MCP server {self.name!r} ({self.server.describe()}) {what}{reason}", server=self.name
        )

    async def _open(self) -> _Session:
        """The live session, connecting (and listing its tools) first if there is none."""
        session = self._session
        if session is not None and not session.closed.is_set():
            return session  # the usual case: no lock to take
        async with self._lock:
            session = self._session
            if session is not None and not session.closed.is_set():
                return session
            session = self._opening = _Session()
            try:
                await self._connect(session)
            except BaseException:
                session.close()  # failed, timed out, or the caller was cancelled meanwhile
                raise
            finally:
                self._opening = None
            self._session = session
            logger.info("connected to MCP server %s (%s)", self.name, self.server.describe())
            return session

    async def _connect(self, session: _Session) -> None:
        self._tg.start_soon(session.hold, self.server.client())
        with anyio.move_on_after(self.server.timeout) as waited:
            await session.ready.wait()
        if waited.cancelled_caught:
            raise self._unavailable(f"did not answer within {self.server.timeout:g} s")
        if session.client is None:
            raise self._unavailable("did not start", session.error)
        try:
            with anyio.fail_after(self.server.timeout):
                session.tools = await _list(session.client)
        except Exception as exc:
            raise self._unavailable("did not list its tools", exc) from exc

    @property
    def is_open(self) -> bool:
        """Whether a session is connected now (a call need not connect first)."""
        session = self._session
        return session is not None and not session.closed.is_set()

    def _broken(self, session: _Session) -> None:
        """Close `session` after a transport failure: the next call connects again."""
        session.close()
        if self._session is session:
            self._session = None

    async def tools(self) -> list[ToolInfo]:
        """The server's tools, as listed when this session connected."""
        session = await self._open()
        assert session.tools is not None
        return [info for info, _ in session.tools.values()]

    async def tool(self, tool: str, arguments: dict[str, Any]) -> ToolInfo:
        """The listing of `tool`, after checking `arguments` against its input schema.

        The session's cached listing answers; when it lacks the tool, or the arguments do not
        match the schema it has, the server is asked for its tools again once (it may have
        changed them since this session listed them) and that listing decides.

        Raises `UnknownTool`, `ToolArgumentsInvalid` or `ServerUnavailable`; nothing is sent.
        """
        session = await self._open()
        assert session.tools is not None
        found = session.tools.get(tool)
        if found is not None and found[1].valid(arguments):
            return found[0]  # the usual case
        await self._list_again(session)
        found = session.tools.get(tool)
        if found is None:
            raise UnknownTool(
                f"MCP server {self.name!r} has no tool {tool!r}; it lists"
                f" {sorted(session.tools) or 'no tools'}",
                server=self.name,
                tool=tool,
            )
        info, check = found
        problems = check.problems(arguments)
        if problems:
            first = problems[0]
            where = "/".join(str(part) for part in first.absolute_path) or "(the arguments)"
            raise ToolArgumentsInvalid(
                f"arguments for tool {tool!r} of MCP server {self.name!r} do not match its input"
                f" schema: at {where}: {first.message}"
                + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                server=self.name,
                tool=tool,
            )
        return info

    async def _list_again(self, session: _Session) -> None:
        """Replace `session`'s cached listing with the server's current one."""
        client = session.client
        if client is None:  # it broke meanwhile: nothing was sent
            self._broken(session)
            raise self._unavailable("closed its connection", session.error)
        try:
            with anyio.fail_after(self.server.timeout):
                session.tools = await _list(client)
        except Exception as exc:
            self._broken(session)
            raise self._unavailable("did not list its tools", exc) from exc

    async def call(self, tool: str, arguments: dict[str, Any], meta: dict[str, Any]) -> ToolResult:
        """Send one call; the server's answer (a result or an error response) as a result.

        Raises `ServerUnavailable` when no connection could be made (nothing was sent) and
        `Lost` when the call went out, or may have, and no answer came.
        """
        session = await self._open()
        client = session.client
        if client is None:  # it broke between opening and now: nothing was sent
            self._broken(session)
            raise self._unavailable("closed its connection", session.error)
        timeout = self.server.timeout
        try:
            # The SDK's own clock times the answer (from when the request is written; when it
            # runs out, the SDK tells the server the request is abandoned), so no scope of ours.
            answer = await client.call_tool(
                tool,
                arguments,
                read_timeout_seconds=timeout,
                meta=meta,  # type: ignore[arg-type]
            )
        except TimeoutError as exc:  # the transport's own bound on writing the request
            self._broken(session)
            raise Lost(f"the request could not be written: {describe_error(exc)}") from exc
        except SDKError as exc:
            if exc.code == mcp_types.REQUEST_TIMEOUT:  # a slow answer; the connection is sound
                raise Lost(f"no answer within {timeout:g} s") from None
            if exc.code == mcp_types.CONNECTION_CLOSED:  # the call may or may not have run
                self._broken(session)
                raise Lost(f"{exc.message} (JSON-RPC error {exc.code})") from exc
            return ToolResult(
                content=[{"type": "text", "text": exc.message}], is_error=True, error_code=exc.code
            )
        except Exception as exc:
            self._broken(session)
            raise Lost(describe_error(exc)) from exc
        return ToolResult(
            content=[
                block.model_dump(mode="json", by_alias=True, exclude_none=True)
                for block in answer.content
            ],
            structured=answer.structured_content,
            is_error=answer.is_error,
        )

    def close(self) -> None:
        """Close the session, if any (its task exits)."""
        for session in (self._session, self._opening):
            if session is not None:
                session.close()
        self._session = None


async def _list(client: Client) -> dict[str, tuple[ToolInfo, ArgumentCheck]]:
    tools: dict[str, tuple[ToolInfo, ArgumentCheck]] = {}
    cursor: str | None = None
    for _ in range(1000):  # a paginator that never ends cannot hang the connection
        page = await client.list_tools(cursor=cursor)
        for tool in page.tools:
            hints = tool.annotations
            info = ToolInfo(
                name=tool.name,
                input_schema=tool.input_schema,
                description=tool.description,
                output_schema=tool.output_schema,
                read_only=bool(hints and hints.read_only_hint),
                idempotent=bool(hints and hints.idempotent_hint),
                destructive=not (hints and hints.destructive_hint is False),
            )
            tools[tool.name] = (info, ArgumentCheck(tool.input_schema))
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools
