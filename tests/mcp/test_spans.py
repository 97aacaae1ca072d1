"""Traces of tool calls and model calls (O3): OpenTelemetry GenAI spans, checked with the SDK's
in-memory exporter, and the trace context carried to the MCP server in `_meta`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import actorflow as af
from actorflow import mcp
from actorflow.journal import MemoryJournal

from .actors import REGISTRY, Call, Caller, ListTools
from .support import calls, stdio_server

pytestmark = pytest.mark.anyio


class Spans(InMemorySpanExporter):
    def __init__(self) -> None:
        super().__init__()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self))

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.get_finished_spans() if s.name == name]


@pytest.fixture
def spans() -> Iterator[Spans]:
    found = Spans()
    yield found
    found.provider.shutdown()


@pytest.fixture(params=[False, True], ids=["plain", "content"])
def servers(request: pytest.FixtureRequest, call_log: Path) -> Iterator[mcp.Servers]:
    REGISTRY["spans"] = found = mcp.Servers(
        tools=stdio_server(call_log), trace_content=request.param
    )
    yield found
    del REGISTRY["spans"]


async def test_o3_a_tool_call_is_an_execute_tool_span_and_the_server_joins_the_trace(
    servers: mcp.Servers, spans: Spans, call_log: Path
) -> None:
    async with af.ActorSystem(journal=MemoryJournal(), tracing=spans.provider) as system:
        caller = await system.spawn(Caller, "spans", name="caller")
        await caller.tell(Call("tools", "lookup", {"q": "otp"}), id="m1")
        await system.wait_idle()
    (tool,) = spans.named("execute_tool lookup")
    (step,) = spans.named("step mcp tools/lookup")
    (handled,) = spans.named("handle Call")
    attributes = dict(tool.attributes or {})
    assert attributes["gen_ai.operation.name"] == "execute_tool"
    assert attributes["gen_ai.tool.name"] == "lookup"
    assert attributes["gen_ai.tool.call.id"] == "m1/mcp tools/lookup"
    assert attributes["actorflow.mcp.server"] == "tools"
    assert tool.parent is not None
    assert tool.parent.span_id == step.context.span_id
    assert step.parent is not None
    assert step.parent.span_id == handled.context.span_id
    if servers.trace_content:
        assert attributes["gen_ai.tool.call.arguments"] == '{"q": "otp"}'
        assert "found otp" in str(attributes["gen_ai.tool.call.result"])
    else:
        assert "gen_ai.tool.call.arguments" not in attributes
        assert "gen_ai.tool.call.result" not in attributes
    (call,) = calls(call_log)
    traceparent = call["meta"]["traceparent"]
    _, trace_id, span_id, _ = traceparent.split("-")
    assert int(trace_id, 16) == tool.context.trace_id
    assert int(span_id, 16) == tool.context.span_id


async def test_o3_a_replayed_call_is_a_step_span_without_execute_tool(
    servers: mcp.Servers, spans: Spans, call_log: Path
) -> None:
    async with af.ActorSystem(journal=MemoryJournal(), tracing=spans.provider) as system:
        caller = await system.spawn(Caller, "spans", name="caller")
        await caller.ask(Call("tools", "charge", {"amount": 1}, fail_first=True), timeout=30)
    steps = spans.named("step mcp tools/charge")
    assert [s.attributes["actorflow.step.replayed"] for s in steps if s.attributes] == [
        False,
        True,
    ]
    assert len(spans.named("execute_tool charge")) == 1
    assert len(calls(call_log)) == 1


async def test_o3_a_tool_error_is_marked_on_its_span(servers: mcp.Servers, spans: Spans) -> None:
    async with af.ActorSystem(tracing=spans.provider) as system:
        caller = await system.spawn(Caller, "spans", max_attempts=1)
        with pytest.raises(af.ActorFailed):
            await caller.ask(Call("tools", "refuse", {"reason": "no"}), timeout=30)
    (tool,) = spans.named("execute_tool refuse")
    assert (tool.attributes or {})["error.type"] == "tool_error"


async def test_t1_in_memory_actors_call_tools_and_see_the_listing(
    servers: mcp.Servers, call_log: Path
) -> None:
    async with af.ActorSystem() as system:
        caller = await system.spawn(Caller, "spans")
        assert await caller.ask(Call("tools", "put", {"key": "k"}), timeout=30) == "stored k"
        listing = await caller.ask(ListTools("tools"), timeout=30)
    by_name = {tool.name: tool for tool in listing}
    assert {"lookup", "put", "charge", "refuse", "big", "die"} <= set(by_name)
    assert (by_name["lookup"].read_only, by_name["lookup"].idempotent) == (True, False)
    assert (by_name["put"].read_only, by_name["put"].idempotent) == (False, True)
    assert (by_name["charge"].read_only, by_name["charge"].idempotent) == (False, False)
    assert by_name["charge"].input_schema["required"] == ["amount"]
    assert by_name["charge"].description == "Charge `amount` (neither read-only nor idempotent)."
    (call,) = calls(call_log)
    assert mcp.IDEMPOTENCY_KEY in call["meta"]  # a fresh key per call: nothing re-runs


class Reply(af.Message, tag="mcp_test.Reply"):
    prompt: str


class Completion(af.Message, tag="mcp_test.Completion"):
    text: str
    input_tokens: int
    output_tokens: int


async def complete(prompt: str) -> Completion:
    return Completion(f"echo {prompt}", input_tokens=len(prompt), output_tokens=7)


class Talker(af.Actor):
    async def on_reply(self, msg: Reply) -> str:
        call = af.LLMCall[Completion](
            model="tiny-1",
            provider="local",
            usage=lambda c: af.TokenUsage(c.input_tokens, c.output_tokens),
        )
        done = await self.ctx.step("llm", complete, msg.prompt, llm=call)
        return done.text


async def test_o3_a_step_declared_an_llm_call_is_a_chat_span_with_token_usage(
    spans: Spans,
) -> None:
    async with af.ActorSystem(journal=MemoryJournal(), tracing=spans.provider) as system:
        talker = await system.spawn(Talker, name="talker")
        assert await talker.ask(Reply("hello"), timeout=10) == "echo hello"
    (chat,) = spans.named("chat tiny-1")
    (step,) = spans.named("step llm")
    assert chat.parent is not None
    assert chat.parent.span_id == step.context.span_id
    assert dict(chat.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "tiny-1",
        "gen_ai.provider.name": "local",
        "gen_ai.usage.input_tokens": 5,
        "gen_ai.usage.output_tokens": 7,
    }
