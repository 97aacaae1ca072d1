"""The span of a served call (O3): the server's side of ``execute_tool {tool}``.

A client that traces sends its span's W3C ``traceparent`` (and ``tracestate``) in the request's
``_meta``, as `Servers.call` does. The server's span is that span's child, and the call's
durable message is sent inside it, so the desk's turn and the tool actor's handler join the
client's trace: one trace from the agent that called to the actor that answered, across
processes (and across a restart of the server, since the message keeps its trace context in
the journal).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["served_span"]

_propagator = TraceContextTextMapPropagator()


@contextlib.contextmanager
def served_span(
    tracer: Any, tool: str, call_id: str, meta: Mapping[str, Any] | None
) -> Iterator[Any]:
    """An ``execute_tool {tool}`` server span, child of the caller's span when `meta` carries
    its trace context; None when the system does not trace.

    A malformed ``traceparent`` is ignored (the span starts a trace of its own), as W3C Trace
    Context asks of a receiver.
    """
    if tracer is None:
        yield None
        return
    carrier = {
        key: value
        for key in ("traceparent", "tracestate")
        if isinstance(value := (meta or {}).get(key), str)
    }
    parent = _propagator.extract(carrier) if carrier else None
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool,
        "gen_ai.tool.call.id": call_id,
        "gen_ai.tool.type": "extension",
    }
    with tracer.start_as_current_span(
        f"execute_tool {tool}", context=parent, kind=trace.SpanKind.SERVER, attributes=attributes
    ) as span:
        yield span
