"""``actorflow mcp serve``: an application's marked handlers as MCP tools (T3).

The server runs inside the application's system (`actorflow.run`, over a journal) and answers
MCP requests with the official SDK's low-level `Server`, over stdio or streamable HTTP:

- ``tools/list``: one tool per marked handler of a live actor (`tool`): its name, the
  handler's docstring as its description, its message type's JSON schema as input, its reply
  type's as output.
- ``tools/call``: arguments decoded into the message type (msgspec validates them), then a
  durable send to the tool's desk (`ToolDesk`) under an id taken from the request, and the
  reply as structured content. A call whose id the journal holds already is not a second
  message: its recorded outcome is the answer. Failures are tool error results; the server
  keeps serving.

Progress notifications go out every `PROGRESS_SECONDS` while a call waits, when the client
sent a progress token.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import json
import logging
import os
import socket
import sys
import typing
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, Final

import anyio
import msgspec

from .. import (
    ActorFailed,
    ActorflowError,
    ActorNotFound,
    ActorRef,
    ActorStopped,
    ActorSystem,
    AskTimeout,
    Codec,
    DecodeError,
    Message,
    Supervisor,
    run,
)
from ..journal import JournalBackend, backend_for
from ._serve_desk import DESK_PREFIX, REPLY_STEP, Calls, Outcome, ToolCall, ToolDesk, taking_calls
from ._serve_schema import input_schema, output_schema, wraps_reply
from ._serve_span import served_span
from ._serve_tool import IDEMPOTENCY_KEY, mark_of, marked_handlers

if typing.TYPE_CHECKING:
    import mcp_types
    from mcp.server.context import ServerRequestContext
    from mcp.server.lowlevel import Server

__all__ = ["PROGRESS_SECONDS", "HttpAddress", "ServeError", "ServedTool", "is_loopback", "serve"]

logger = logging.getLogger("actorflow")

_CALLS: Final = Codec(ToolCall)

KEY_LIMIT: Final = 256
"""The longest idempotency key a client may send, in characters."""

PROGRESS_SECONDS: Final = 1.0
"""How often a waiting call reports progress (when its client sent a progress token)."""

Main = Callable[[ActorSystem], Awaitable[Any]]


class ServeError(ActorflowError):
    """Raised when the server cannot start: the SDK is missing, the address is refused, or the
    application's setup (its main) failed."""


@dataclass(frozen=True)
class HttpAddress:
    """Where to serve streamable HTTP; `allow_remote` lets a non-loopback host through."""

    host: str
    port: int
    allow_remote: bool = False


@dataclass(frozen=True)
class ServedTool:
    """A marked handler of a live actor, as the server serves it."""

    name: str
    description: str
    actor: str
    message_type: type[Message]
    reply_type: Any  # None when the handler does not say what it replies
    timeout: float
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None

    def decode(self, arguments: dict[str, Any] | None) -> tuple[Message, bytes]:
        """The message the arguments make, and the arguments as JSON; raises `BadArguments`."""
        data = msgspec.json.encode(arguments or {})
        try:
            message: Message = msgspec.json.decode(data, type=self.message_type)
        except msgspec.ValidationError as exc:
            raise BadArguments(f"invalid arguments for tool {self.name!r}: {exc}") from exc
        except Exception as exc:  # the type's own __post_init__ refused them
            raise BadArguments(
                f"invalid arguments for tool {self.name!r}: {type(exc).__name__}: {exc}"
            ) from exc
        return message, data


class BadArguments(Exception):
    """The arguments of a call do not fit the tool's message type."""


def serve(
    main: Main | None,
    *,
    journal: str,
    root: Supervisor | None = None,
    http: HttpAddress | None = None,
    progress_seconds: float = PROGRESS_SECONDS,
) -> None:
    """Run the application and serve its tools until the client hangs up (stdio) or a signal
    stops the process (both).

    The application is the `root` supervisor's tree (started first), then `main`, which sets
    it up and returns; serving starts once it has returned, and its actors live on until the
    server ends. An exception from `main` is a `ServeError`, before anything is served.

    Raises `ServeError` when the ``mcp`` extra is not installed, or `http` names a host that is
    not a loopback address without `allow_remote` or an address it cannot listen on; journal
    errors (`JournalError`) as `actorflow.run` raises them.
    """
    try:
        from mcp.server.lowlevel import Server
    except ImportError as exc:
        raise ServeError(
            f"serving MCP needs the mcp extra ({exc}): pip install 'actorflow[mcp]'"
        ) from exc
    listening = None if http is None else (http, _listen(http))
    backend = backend_for(journal)  # a SQLite file, or a postgresql:// URL

    async def serving(system: ActorSystem) -> None:
        tools = Tools(system, backend, progress_seconds)
        server = Server(
            "actorflow",
            version=_version(),
            instructions="Actors of an actorflow application, served as tools.",
            on_list_tools=tools.list_tools,
            on_call_tool=tools.call_tool,
        )
        if main is not None:
            try:
                await main(system)  # the setup: its actors live on until the server ends
            except Exception as exc:
                raise ServeError(
                    f"the application's setup failed: {type(exc).__name__}: {exc}"
                ) from exc
        with taking_calls(system, tools.calls):
            if listening is None:
                await _serve_stdio(server)
            else:
                await _serve_http(server, *listening)

    try:
        run(serving, journal=backend, root=root)
    finally:
        if listening is not None:
            listening[1].close()


# -- the tools ---------------------------------------------------------------------------------


class Tools:
    """The served tools of one system: what is listed, and how a call goes."""

    def __init__(self, system: ActorSystem, backend: JournalBackend, progress: float) -> None:
        self.system = system
        self.backend = backend
        self.progress = progress
        self.connection = uuid.uuid4().hex  # names this stdio connection in call ids
        self.served: dict[str, ServedTool] = {}
        self.desks: dict[str, ActorRef[ToolDesk]] = {}
        self._reported: set[str] = set()
        self.calls = Calls(self.handle)

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: mcp_types.PaginatedRequestParams | None
    ) -> mcp_types.ListToolsResult:
        import mcp_types as types

        await self.refresh()
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=t.name,
                    description=t.description,
                    input_schema=t.input_schema,
                    output_schema=t.output_schema,
                )
                for t in self.served.values()
            ]
        )

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams
    ) -> mcp_types.CallToolResult:
        tool = self.served.get(params.name)
        try:
            if tool is None:
                await self.refresh()  # an actor started since the last listing, maybe
                tool = self.served.get(params.name)
        except ActorflowError as exc:  # the journal could not be read
            return _error(f"the tools could not be found: {exc}")
        if tool is None:
            names = ", ".join(sorted(self.served)) or "none"
            return _error(f"unknown tool {params.name!r}; this server serves: {names}")
        try:
            _, arguments = tool.decode(params.arguments)
            call_id = self._call_id(ctx, tool)
        except BadArguments as exc:
            return _error(str(exc))
        with served_span(self.system.tracer, tool.name, call_id, ctx.meta) as span:
            try:
                outcome = await self._call(ctx, tool, call_id, arguments)
            except ActorflowError as exc:  # the journal refused the call: nothing was sent
                if span is not None:
                    span.set_attribute("error.type", type(exc).__qualname__)
                return _error(f"tool {tool.name!r}: the call could not be sent: {exc}")
            if span is not None and outcome.error is not None:
                span.set_attribute("error.type", "tool_error")
        return _result(tool, outcome)

    async def refresh(self) -> None:
        """Find the marked handlers of live actors again."""
        served: dict[str, ServedTool] = {}
        records: list[tuple[str, str]] | None = None
        for handler in marked_handlers():
            mark = mark_of(handler)
            assert mark is not None
            actor = mark.actor
            if actor is None:
                if records is None:
                    records = [(r.name, r.kind) for r in await self.backend.actors()]
                actor = self._actor_of(handler, mark.name, records)
                if actor is None:
                    continue
            else:
                try:
                    self.system.lookup(actor)
                except ActorNotFound:
                    continue  # not started (yet): not served
            try:
                found = _served_tool(handler, mark.name, actor, mark.timeout)
            except (TypeError, ValueError, NameError) as exc:
                self._report(f"not serving tool {mark.name!r}: {exc}")
                continue
            other = served.get(found.name)
            if other is not None:
                self._report(
                    f"tool {found.name!r} is marked twice ({other.actor} and {actor}): serving"
                    f" {other.actor}'s; give one of them @tool(name=...)"
                )
                continue
            served[found.name] = found
        self.served = served

    def _actor_of(
        self, handler: Callable[..., Any], tool: str, records: list[tuple[str, str]]
    ) -> str | None:
        """The one live durable actor of the handler's class, or None."""
        cls = _class_of(handler)
        if cls is None:
            self._report(
                f"not serving tool {tool!r}: the class of {handler.__qualname__} cannot be found"
                " from its module; give @tool(actor=...) the name of the actor that serves it"
            )
            return None
        kind = getattr(cls, "__actorflow_kind__", None)
        live = []
        for name, record_kind in records:
            if record_kind != kind or name.startswith(DESK_PREFIX):
                continue
            try:
                self.system.lookup(name)
            except ActorNotFound:
                continue
            live.append(name)
        if len(live) > 1:
            self._report(
                f"not serving tool {tool!r}: {len(live)} live actors of {cls.__qualname__}"
                f" ({', '.join(sorted(live)[:3])}...); give @tool(actor=...) the one to serve"
            )
            return None
        return live[0] if live else None

    def _report(self, problem: str) -> None:
        if problem not in self._reported:
            self._reported.add(problem)
            logger.warning("%s", problem)

    def _call_id(self, ctx: ServerRequestContext[Any], tool: ServedTool) -> str:
        """The call's message id: the client's idempotency key, else its request in its
        session; a call that names neither is a new message each time. Raises `BadArguments`
        for a key that is not a string of 1 to `KEY_LIMIT` characters."""
        meta: Mapping[str, Any] = ctx.meta or {}
        if IDEMPOTENCY_KEY in meta:
            key = meta[IDEMPOTENCY_KEY]
            if not (isinstance(key, str) and 0 < len(key) <= KEY_LIMIT):
                raise BadArguments(
                    f"the idempotency key ({IDEMPOTENCY_KEY!r} in _meta) must be a string of 1"
                    f" to {KEY_LIMIT} characters, not {_short(key)}"
                )
            return f"mcp:{tool.name}:key:{key}"
        session = self._session(ctx)
        if session is not None and ctx.request_id is not None:
            return f"mcp:{tool.name}:request:{session}:{ctx.request_id!r}"
        return f"mcp:{tool.name}:new:{uuid.uuid4().hex}"

    def _session(self, ctx: ServerRequestContext[Any]) -> str | None:
        request = ctx.request
        if request is None:
            return self.connection  # stdio: one connection per server process
        headers = getattr(request, "headers", None)
        found = None if headers is None else headers.get("mcp-session-id")
        return found if isinstance(found, str) and found else None

    async def _call(
        self, ctx: ServerRequestContext[Any], tool: ServedTool, call_id: str, arguments: bytes
    ) -> Outcome:
        """Send the call (once per id), then wait for its outcome, reporting progress."""
        with self.calls.waiting(call_id) as waiter:
            desk = await self._desk(tool.name)
            await desk.tell(ToolCall(tool.name, arguments), id=call_id)
            other = await self._other_call(call_id, arguments)
            if other is not None:
                return Outcome(error=other)
            waited = 0.0
            while True:
                recorded = await self._recorded(call_id)
                if recorded is not None:
                    return recorded
                with anyio.move_on_after(self.progress):
                    await waiter.done.wait()
                if waiter.outcome is not None:
                    return waiter.outcome
                waited += self.progress
                await ctx.session.report_progress(
                    waited, None, f"{tool.actor} is handling the call ({waited:.0f} s)"
                )

    async def _other_call(self, call_id: str, arguments: bytes) -> str | None:
        """Why the call the journal holds under `call_id` is not this one, or None if it is."""
        record = await self.backend.message(call_id)
        if record is None:
            return None
        try:
            held = _CALLS.decode(record.body)
            same = msgspec.json.decode(held.arguments) == msgspec.json.decode(arguments)
        except (DecodeError, msgspec.DecodeError) as exc:
            return f"the call the journal holds as {call_id} cannot be read: {exc}"
        if same:
            return None
        return (
            f"call {call_id} was made before with other arguments: a retry must send the same"
            " ones (or use a new idempotency key)"
        )

    async def _recorded(self, call_id: str) -> Outcome | None:
        """The call's outcome if the journal has it (a retry, or a call handled meanwhile)."""
        record = await self.backend.message(call_id)
        if record is None:
            return None
        steps = await self.backend.steps(call_id)
        data = steps.get(REPLY_STEP)
        if data is not None:
            try:
                return msgspec.msgpack.decode(data, type=Outcome)
            except msgspec.DecodeError as exc:
                return Outcome(error=f"the recorded outcome of call {call_id} is unreadable: {exc}")
        if record.status == "dead":
            return Outcome(error=f"the call failed: {record.error}")
        return None

    async def _desk(self, tool: str) -> ActorRef[ToolDesk]:
        desk = self.desks.get(tool)
        if desk is None:
            desk = self.desks[tool] = await self.system.spawn(
                ToolDesk, tool, name=DESK_PREFIX + tool
            )
        return desk

    async def handle(self, call: ToolCall) -> Outcome:
        """Ask the tool's actor (inside its desk's step); every failure is an outcome."""
        tool = self.served.get(call.tool)
        if tool is None:
            await self.refresh()
            tool = self.served.get(call.tool)
        if tool is None:
            return Outcome(error=f"tool {call.tool!r} is not served any more")
        try:
            message = msgspec.json.decode(call.arguments, type=tool.message_type)
            ref = self.system.lookup(tool.actor)
            reply = await ref.ask(message, timeout=tool.timeout)
        except ActorFailed as exc:
            cause = exc.__cause__
            why = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
            return Outcome(error=f"{tool.actor} failed handling the call: {why}")
        except AskTimeout:
            return Outcome(error=f"{tool.actor} did not reply within {tool.timeout:g} s")
        except (ActorNotFound, ActorStopped) as exc:
            return Outcome(error=f"{tool.actor} cannot take the call: {exc}")
        except msgspec.ValidationError as exc:
            return Outcome(error=f"invalid arguments for tool {tool.name!r}: {exc}")
        try:
            return Outcome(reply=msgspec.json.encode(reply))
        except (TypeError, ValueError, OverflowError) as exc:
            return Outcome(
                error=f"{tool.actor} replied {type(reply).__name__}, which is not JSON: {exc}"
            )


def _served_tool(handler: Callable[..., Any], name: str, actor: str, timeout: float) -> ServedTool:
    hints = typing.get_type_hints(handler)
    params = list(inspect.signature(handler).parameters.values())[1:]
    message_type = hints.get(params[0].name) if params else None
    if not (isinstance(message_type, type) and issubclass(message_type, Message)):
        raise TypeError(
            f"{handler.__qualname__} takes {message_type!r}; a served handler takes one message"
            " type (not a union)"
        )
    reply_type = hints.get("return")
    return ServedTool(
        name=name,
        description=inspect.getdoc(handler) or f"{message_type.__name__} to {actor}",
        actor=actor,
        message_type=message_type,
        reply_type=reply_type,
        timeout=timeout,
        input_schema=input_schema(message_type),
        output_schema=None if reply_type in (None, Any) else output_schema(reply_type),
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _class_of(handler: Callable[..., Any]) -> type | None:
    """The class a handler was defined in, found from its module by its qualified name."""
    where: Any = sys.modules.get(handler.__module__)
    for part in handler.__qualname__.split(".")[:-1]:
        where = getattr(where, part, None)
    return where if isinstance(where, type) else None


def _error(text: str) -> mcp_types.CallToolResult:
    import mcp_types as types

    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)


def _result(tool: ServedTool, outcome: Outcome) -> mcp_types.CallToolResult:
    import mcp_types as types

    if outcome.reply is None:
        return _error(outcome.error or f"tool {tool.name!r}: the call ended without a reply")
    text = outcome.reply.decode("utf-8")
    value = json.loads(text)
    wrap = (
        not isinstance(value, dict)
        if tool.reply_type in (None, Any)
        else wraps_reply(tool.reply_type)
    )
    structured = {"result": value} if wrap else value
    return types.CallToolResult(
        content=[types.TextContent(text=text)], structured_content=structured
    )


# -- transports --------------------------------------------------------------------------------


async def _serve_stdio(server: Server[Any]) -> None:
    from mcp.server.stdio import stdio_server

    async with _stdin_lines() as lines, stdio_server(stdin=lines) as (read, write):
        await server.run(read, write, server.create_initialization_options())


@asynccontextmanager
async def _stdin_lines() -> AsyncIterator[Any]:
    """Stdin's lines, read by the event loop where stdin is a pipe (None: the SDK's own reader).

    The SDK reads stdin in a worker thread, which a cancellation cannot interrupt: a SIGINT
    would wait for the client's next line. A pipe read by the loop stops at once.
    """
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_LINE_LIMIT)
    pipe = os.fdopen(os.dup(sys.stdin.fileno()), "rb", buffering=0)
    try:
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), pipe
        )
    except (ValueError, OSError):  # a regular file or a terminal: leave it to the SDK
        pipe.close()
        yield None
        return
    try:
        yield _Lines(reader)
    finally:
        transport.close()


_LINE_LIMIT: Final = 64 * 1024 * 1024
"""The longest request line read from stdin, in bytes."""


class _Lines:
    """The lines of a stream reader, as the SDK's stdio server iterates over stdin."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        try:
            line = await self._reader.readline()
        except ValueError:  # longer than the limit: the SDK answers it as a parse error
            return f"(a line longer than {_LINE_LIMIT} bytes)\n"
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


def _listen(http: HttpAddress) -> socket.socket:
    """Bind the HTTP address first, so that a bad one fails before the system starts."""
    if not http.allow_remote and not is_loopback(http.host):
        raise ServeError(
            f"refusing to serve on {http.host}, which is not a loopback address: anyone who can"
            " reach it could call the tools; pass --allow-remote to serve there anyway"
        )
    family = socket.AF_INET6 if ":" in http.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((http.host, http.port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {http.host}:{http.port}: {exc.strerror}") from exc
    return sock


def is_loopback(host: str) -> bool:
    """Whether `host` is ``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _serve_http(server: Server[Any], http: HttpAddress, listener: socket.socket) -> None:
    import uvicorn

    app = server.streamable_http_app(host=http.host)
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5)
    print(f"actorflow: serving MCP on http://{shown}:{port}/mcp", file=sys.stderr, flush=True)
    await _Uvicorn(config).serve(sockets=[listener])


class _Uvicorn:
    """uvicorn's server without its signal handlers: `actorflow.run` owns SIGINT/SIGTERM."""

    def __init__(self, config: Any) -> None:
        import uvicorn

        class Quiet(uvicorn.Server):
            @contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        self._server = Quiet(config)

    async def serve(self, *, sockets: list[socket.socket]) -> None:
        """Serve until cancelled, then shut down as uvicorn does on a signal (its open
        connections get `timeout_graceful_shutdown`), rather than cancelling it midway."""
        server = self._server
        finished = anyio.Event()

        async def shielded() -> None:
            with anyio.CancelScope(shield=True):
                try:
                    await server.serve(sockets=sockets)
                finally:
                    finished.set()

        async with anyio.create_task_group() as group:
            group.start_soon(shielded)
            try:
                await finished.wait()
            finally:
                server.should_exit = True
                with anyio.CancelScope(shield=True):
                    await finished.wait()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("actorflow")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "0"
