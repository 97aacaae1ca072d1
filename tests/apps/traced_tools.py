"""tests/apps/tools.py with OpenTelemetry's SDK configured at import, before the system starts:
each finished span is written as one JSON line to the file named by ``ACTORFLOW_TEST_SPANS``
(the SDK's own console exporter, pointed at that file), so that a test in another process can
read the spans of ``actorflow mcp serve`` (O3)."""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from tests.apps.tools import main

__all__ = ["main"]


def _line(span: ReadableSpan) -> str:
    return span.to_json(indent=None) + "\n"


_provider = TracerProvider()
_provider.add_span_processor(
    SimpleSpanProcessor(
        ConsoleSpanExporter(
            out=open(os.environ["ACTORFLOW_TEST_SPANS"], "a", buffering=1),  # noqa: SIM115
            formatter=_line,
        )
    )
)
trace.set_tracer_provider(_provider)
