"""A served call joins its caller's trace (O3): ``actorflow mcp serve`` reads the W3C trace
context from the request's ``_meta``, as `actorflow.mcp.Servers` sends it; its ``execute_tool``
server span is the caller's span's child, and the desk's turn and the tool actor's handler are
in that trace. The server is a real process with OpenTelemetry's SDK configured
(tests/apps/traced_tools.py), writing its spans to a file this test reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from actorflow.mcp import IDEMPOTENCY_KEY

from .support import stdio_client

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

APP = "tests.apps.traced_tools:main"


def hex_id(value: int, digits: int) -> str:
    return f"0x{value:0{digits}x}"


def named(spans: list[dict[str, Any]], name: str, **attributes: str) -> list[dict[str, Any]]:
    return [
        s
        for s in spans
        if s["name"] == name and all(s["attributes"].get(k) == v for k, v in attributes.items())
    ]


async def test_o3_a_served_call_is_a_server_span_in_the_callers_trace(tmp_path: Path) -> None:
    spans_file = tmp_path / "spans.jsonl"
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("the caller")
    extra = {"ACTORFLOW_TEST_SPANS": str(spans_file)}
    try:
        async with stdio_client(tmp_path / "tools.db", APP, extra) as client:
            with tracer.start_as_current_span("agent turn") as caller:
                carrier: dict[str, str] = {}
                TraceContextTextMapPropagator().inject(carrier)
                meta: Any = {**carrier, IDEMPOTENCY_KEY: "traced-1"}
                planned = await client.call_tool("plan", {"topic": "otp"}, meta=meta)
                meta = {**carrier, IDEMPOTENCY_KEY: "traced-2"}
                failed = await client.call_tool("fail", {"reason": "no model"}, meta=meta)
            alone = await client.call_tool("plan", {"topic": "alone"}, meta={"traceparent": "x"})
    finally:
        provider.shutdown()
    assert not planned.is_error
    assert failed.is_error
    assert not alone.is_error
    spans = [json.loads(line) for line in spans_file.read_text().splitlines()]
    trace_id = hex_id(caller.get_span_context().trace_id, 32)
    caller_id = hex_id(caller.get_span_context().span_id, 16)

    (served,) = named(
        spans, "execute_tool plan", **{"gen_ai.tool.call.id": "mcp:plan:key:traced-1"}
    )
    assert served["kind"] == "SpanKind.SERVER"
    assert served["context"]["trace_id"] == trace_id
    assert served["parent_id"] == caller_id
    assert served["attributes"]["gen_ai.operation.name"] == "execute_tool"
    assert served["attributes"]["gen_ai.tool.name"] == "plan"
    assert "error.type" not in served["attributes"]

    # The call's durable message is sent inside the server span: the desk's turn is its child,
    # and the planner's handler (asked from the desk's step) is in the same trace.
    in_trace = [s for s in spans if s["context"]["trace_id"] == trace_id]
    (desk,) = [
        s
        for s in named(in_trace, "handle ToolCall")
        if s["parent_id"] == served["context"]["span_id"]
    ]
    (handled,) = named(in_trace, "handle Plan")
    assert handled["attributes"]["actorflow.actor"] == "planner"
    assert desk["attributes"]["actorflow.message.id"] == "mcp:plan:key:traced-1"

    # A handler that fails: the tool error result, marked on the span.
    (failing,) = named(spans, "execute_tool fail")
    assert failing["context"]["trace_id"] == trace_id
    assert failing["attributes"]["error.type"] == "tool_error"

    # A malformed traceparent is ignored: the served call starts a trace of its own.
    (own,) = [s for s in named(spans, "execute_tool plan") if s is not served]
    assert own["parent_id"] is None
    assert own["context"]["trace_id"] != trace_id
