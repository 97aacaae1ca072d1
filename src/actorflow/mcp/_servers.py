"""`Servers`: the MCP servers a system's handlers call tools on, declared once, by name.

A call is a step (J4, T1): ``await servers.call(self.ctx, "search", "web_search", {...})``
records the tool's result once and returns the record on a re-run. What may happen to a call
whose outcome is unknown is decided per tool (T2): see `Servers.call`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import anyio
import msgspec
import tenacity
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from actorflow import ActorContext, StepOutcomeUnknown

from ._config import Server
from ._connection import Connection, Lost
from ._errors import (
    ServerUnavailable,
    ToolFailed,
    ToolOutcomeUnknown,
    ToolResultTooLarge,
    UnknownServer,
)
from ._results import ToolInfo, ToolResult
from ._serve_tool import IDEMPOTENCY_KEY

__all__ = ["Servers"]

"""The `_meta` key of a call's idempotency key: the message's id and the step's key, the same
on every attempt at that call (J4, T1)."""

_propagator = TraceContextTextMapPropagator()
_encode_json = msgspec.json.Encoder().encode


def _retrying() -> tenacity.AsyncRetrying:
    """Transport retries of a call that may be repeated: three tries, 50 ms doubling."""
    return tenacity.AsyncRetrying(
        stop=tenacity.stop_after_attempt(3),
        wait=tenacity.wait_exponential_jitter(multiplier=0.05, max=1.0, jitter=0.05),
        retry=tenacity.retry_if_exception_type((Lost, ServerUnavailable)),
        reraise=True,
    )


class _Pool:
    """The connections of one system (one process): one per server, opened lazily."""

    def __init__(self, servers: Mapping[str, Server], tg: anyio.abc.TaskGroup) -> None:
        self.connections = {name: Connection(name, server, tg) for name, server in servers.items()}

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()


class Servers:
    """The MCP servers handlers call tools on, by name; declare them once, at module level.

    ``Servers(search=StdioServer([sys.executable, "search_server.py"]),
    web=HttpServer("http://127.0.0.1:8000/mcp"))``. Each system opens its own connections on
    first use (a stdio server is one subprocess per process) and closes them when it stops,
    after its actors. `trace_content` adds each call's arguments and result to its span
    (``gen_ai.tool.call.arguments``, ``gen_ai.tool.call.result``): off by default, since they
    may hold what should not leave the process.
    """

    def __init__(self, *, trace_content: bool = False, **servers: Server) -> None:
        for name, server in servers.items():
            if not hasattr(server, "client") or not hasattr(server, "may_repeat"):
                raise TypeError(
                    f"server {name!r} is a StdioServer or an HttpServer, not {server!r}"
                )
        self._servers: dict[str, Server] = dict(servers)
        self._trace_content = trace_content

    @property
    def trace_content(self) -> bool:
        """Whether spans carry each call's arguments and result."""
        return self._trace_content

    @property
    def names(self) -> list[str]:
        """The declared servers' names."""
        return list(self._servers)

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={server.describe()!r}" for name, server in self._servers.items())
        return f"<Servers {inner}>"

    # -- the connections of a system ---------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _open(self) -> AsyncIterator[_Pool]:
        async with anyio.create_task_group() as tg:
            pool = _Pool(self._servers, tg)
            try:
                yield pool
            finally:
                pool.close()

    async def _connection(self, ctx: ActorContext, server: str) -> Connection:
        if server not in self._servers:
            raise UnknownServer(
                f"no MCP server is called {server!r}; the declared ones are {self.names}",
                server=server,
            )
        pool = await ctx.system.resource(self, self._open)
        return pool.connections[server]

    # -- what handlers call ------------------------------------------------------------------

    async def list_tools(self, ctx: ActorContext, server: str) -> list[ToolInfo]:
        """The tools `server` lists (names, descriptions, schemas, annotations), for a model.

        Listed once per connection and cached while it lasts (a reconnect lists again). Not a
        step: a listing is not a side effect. Raises `UnknownServer`, `ServerUnavailable`.
        """
        return await (await self._connection(ctx, server)).tools()

    async def call(
        self,
        ctx: ActorContext,
        server: str,
        tool: str,
        arguments: Mapping[str, Any] | None = None,
    ) -> ToolResult:
        """Call `tool` on `server` as a step of the message being handled (T1); its result.

        The result is recorded once (as JSON data) and a re-run of the message returns the
        record without calling. The request's ``_meta`` carries an idempotency key
        (``actorflow/idempotency-key``: the message id and the step's key) and the W3C
        ``traceparent`` of the call's ``execute_tool`` span.

        A call whose outcome is unknown (in flight when the process died, or lost to a broken
        connection) is made again, and transport failures are retried, only when the tool may
        be repeated: it declares ``readOnlyHint`` or ``idempotentHint``, or the server's
        ``repeatable`` policy says so. Any other tool is called at most once per message: a
        started marker commits before the request goes out, and a call that then never
        answered raises `ToolOutcomeUnknown`, now and on every later attempt (T2).

        Raises `ToolFailed` when the server answered with an error (the tool's ``isError``
        result or a JSON-RPC error; recorded, since the outcome is known), and before
        anything is sent `UnknownServer`, `UnknownTool`, `ToolArgumentsInvalid` or
        `ServerUnavailable`; `ToolResultTooLarge` for a result over ``max_result_bytes``
        (not recorded).
        """
        if server not in self._servers:
            raise UnknownServer(
                f"no MCP server is called {server!r}; the declared ones are {self.names}",
                server=server,
            )
        args = dict(arguments or {})
        try:
            # The context is bound, not an argument: the step's recorded arguments (their
            # digest, R1) are the server, the tool and what it is called with.
            result: ToolResult = await ctx.step(
                f"mcp {server}/{tool}", functools.partial(self._invoke, ctx), server, tool, args
            )
        except ToolOutcomeUnknown:
            raise  # lost in this attempt: it names the tool already
        except StepOutcomeUnknown as exc:  # started in an earlier attempt, never recorded
            raise ToolOutcomeUnknown(
                f"tool {tool!r} of MCP server {server!r}: {exc}",
                server=server,
                tool=tool,
                actor=exc.actor,
                step=exc.step,
            ) from exc
        if result.is_error:
            what = (
                "an error result"
                if result.error_code is None
                else f"JSON-RPC error {result.error_code}"
            )
            raise ToolFailed(
                f"tool {tool!r} of MCP server {server!r} answered with {what}: {result.text}",
                server=server,
                tool=tool,
                result=result,
            )
        return result

    async def _invoke(
        self, ctx: ActorContext, server: str, tool: str, arguments: dict[str, Any]
    ) -> ToolResult:
        """The step's function: check, mark (for a tool that may not repeat), send, size."""
        connection = await self._connection(ctx, server)
        config = connection.server
        info = await _retrying_open(connection, tool, arguments)
        repeatable = config.may_repeat(info)
        if not repeatable:
            await ctx.mark_step_started()
        call_id = _call_id(ctx)
        with self._span(ctx, server, tool, call_id, arguments) as span:
            meta: dict[str, Any] = {IDEMPOTENCY_KEY: call_id}
            _propagator.inject(meta)
            try:
                if repeatable:
                    result = await _with_retries(connection, tool, arguments, meta)
                else:
                    result = await connection.call(tool, arguments, meta)
            except Lost as exc:
                if repeatable:
                    raise ServerUnavailable(
                        f"MCP server {server!r} ({config.describe()}) lost the call of"
                        f" {tool!r} on every try: {exc.reason}",
                        server=server,
                        tool=tool,
                    ) from exc
                step = ctx.current_step or tool
                raise ToolOutcomeUnknown(
                    f"tool {tool!r} of MCP server {server!r} may not be repeated (it is neither"
                    f" read-only nor idempotent) and its call was lost: {exc.reason}; it is not"
                    " called again for this message",
                    server=server,
                    tool=tool,
                    actor=ctx.name,
                    step=step,
                ) from exc
            size = len(_encode_json(result))
            if span is not None:
                if result.is_error:
                    span.set_attribute("error.type", "tool_error")
                if self._trace_content:
                    span.set_attribute("gen_ai.tool.call.result", _encode_json(result).decode())
        if size > config.max_result_bytes:
            raise ToolResultTooLarge(
                f"tool {tool!r} of MCP server {server!r} returned {size} bytes of JSON, more"
                f" than its max_result_bytes ({config.max_result_bytes}); not recorded",
                server=server,
                tool=tool,
            )
        return result

    @contextlib.contextmanager
    def _span(
        self, ctx: ActorContext, server: str, tool: str, call_id: str, arguments: dict[str, Any]
    ) -> Iterator[Any]:
        """An ``execute_tool {tool}`` span (OpenTelemetry GenAI conventions, O3), or None."""
        tracer = ctx.system.tracer
        if tracer is None:
            yield None
            return
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.type": "extension",
            "actorflow.mcp.server": server,
        }
        if self._trace_content:
            attributes["gen_ai.tool.call.arguments"] = json.dumps(arguments)
        with tracer.start_as_current_span(
            f"execute_tool {tool}", kind=trace.SpanKind.INTERNAL, attributes=attributes
        ) as span:
            try:
                yield span
            except Exception as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                raise


def _call_id(ctx: ActorContext) -> str:
    """The call's idempotency key: message id and step key, stable across re-runs (J4)."""
    if ctx.message_id is None:
        return uuid.uuid4().hex  # in memory nothing is re-run from a record
    return f"{ctx.message_id}/{ctx.current_step}"


async def _retrying_open(connection: Connection, tool: str, arguments: dict[str, Any]) -> ToolInfo:
    """The tool's listing, connecting first; a failure to connect is retried (nothing was
    sent yet, so that is safe for any tool)."""
    if connection.is_open:
        return await connection.tool(tool, arguments)  # the usual case: no retry loop to build
    async for attempt in tenacity.AsyncRetrying(
        stop=tenacity.stop_after_attempt(3),
        wait=tenacity.wait_exponential_jitter(multiplier=0.05, max=1.0, jitter=0.05),
        retry=tenacity.retry_if_exception_type(ServerUnavailable),
        reraise=True,
    ):
        with attempt:
            return await connection.tool(tool, arguments)
    raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover


async def _with_retries(
    connection: Connection, tool: str, arguments: dict[str, Any], meta: dict[str, Any]
) -> ToolResult:
    try:
        return await connection.call(tool, arguments, meta)  # the usual case: no loop to build
    except (Lost, ServerUnavailable):
        pass
    retrying = _retrying()
    retrying.stop = tenacity.stop_after_attempt(2)  # the first try is made above
    async for attempt in retrying:
        with attempt:
            return await connection.call(tool, arguments, meta)
    raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover
