"""OpenTelemetry tracing (O1): a span per handled message, a child span per step.

Optional: with ``opentelemetry-api`` installed (``pip install actorflow[otel]``) and a tracer
provider configured when a system starts, every handled message gets a span named
``handle <MessageType>`` with the actor, the message's type and id, its conversation and the
attempt, and the outcome. A message carries the trace context of the span that sent it (in
memory, and in the journal's ``trace`` column as a W3C ``traceparent``), so a conversation
across actors, and across restarts, is one trace. Without OpenTelemetry nothing here costs
more than one flag test per send.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol

from ._llm import LLMCall
from ._message import Message

try:
    from opentelemetry import trace as _trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    _propagator = TraceContextTextMapPropagator()
    _AVAILABLE = True
except ImportError:  # the otel extra is not installed
    _AVAILABLE = False

__all__ = [
    "active",
    "available",
    "configured",
    "current_traceparent",
    "llm_span",
    "step_span",
    "traced",
    "tracer_for",
]

_VERSION = "0.1.0"

active = 0
"""How many running systems trace: while none does, sends skip capturing the context."""


class Handled(Protocol):
    """What a span records of the message being handled (an envelope)."""

    attempts: int
    id: str | None
    conversation: str | None
    trace: str | None


def available() -> bool:
    """Whether OpenTelemetry's API is installed."""
    return _AVAILABLE


def configured() -> bool:
    """Whether an application has set a tracer provider (the default is a no-op proxy)."""
    if not _AVAILABLE:
        return False
    return not isinstance(_trace.get_tracer_provider(), _trace.ProxyTracerProvider)


def tracer_for(option: Any) -> Any:
    """The tracer a system uses: `option` is the system's ``tracing=`` argument.

    None: the global provider's, if an application configured one; True: the global
    provider's; False: none; anything else is a ``TracerProvider`` to use.
    """
    if option is False or not _AVAILABLE or (option is None and not configured()):
        return None
    provider = None if option is None or option is True else option
    return _trace.get_tracer("actorflow", _VERSION, tracer_provider=provider)


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, or None outside any recording span."""
    if not _AVAILABLE:
        return None
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def traced(
    tracer: Any,
    actor: str,
    current: Callable[[], Handled | None],
    method: Callable[[Message], Any],
    is_async: bool,
) -> Callable[[Message], Awaitable[Any]]:
    """Wrap `actor`'s bound handler so that each call is a span, child of the sender's.

    `current` returns the envelope being handled (its id, attempt and trace context).
    """
    propagator = _propagator
    consumer = _trace.SpanKind.CONSUMER

    async def handle(message: Message) -> Any:
        envelope = current()
        parent = None
        attributes: dict[str, Any] = {
            "actorflow.actor": actor,
            "actorflow.message.type": type(message).__name__,
        }
        if envelope is not None:
            attributes["actorflow.attempt"] = envelope.attempts + 1
            if envelope.id is not None:
                attributes["actorflow.message.id"] = envelope.id
                attributes["actorflow.conversation"] = envelope.conversation or envelope.id
            if envelope.trace is not None:
                parent = propagator.extract({"traceparent": envelope.trace})
        with tracer.start_as_current_span(
            f"handle {type(message).__name__}", context=parent, kind=consumer, attributes=attributes
        ) as span:
            try:
                result = method(message)
                if is_async:
                    result = await result
            except BaseException:
                span.set_attribute("actorflow.outcome", "failed")
                raise
            span.set_attribute("actorflow.outcome", "handled")
            return result

    return handle


def step_span(
    tracer: Any, actor: str, step: str
) -> contextlib.AbstractContextManager[Callable[[bool], None]]:
    """A child span for one step of `actor`; the callable records whether it was replayed
    (J4). Without a `tracer`, nothing (one shared context, not a generator per step)."""
    if tracer is None:
        return _NO_STEP_SPAN
    return _step_span(tracer, actor, step)


@contextlib.contextmanager
def _step_span(tracer: Any, actor: str, step: str) -> Iterator[Callable[[bool], None]]:
    with tracer.start_as_current_span(
        f"step {step}", attributes={"actorflow.actor": actor, "actorflow.step": step}
    ) as span:

        def replayed(value: bool) -> None:
            span.set_attribute("actorflow.step.replayed", value)

        yield replayed


@contextlib.contextmanager
def llm_span(tracer: Any, call: LLMCall[Any]) -> Iterator[Callable[[Any], None]]:
    """A ``{operation} {model}`` client span around one model call (O3, GenAI conventions);
    the callable reports the call's result, whose token usage `call` reads."""
    attributes = {
        "gen_ai.operation.name": call.operation,
        "gen_ai.request.model": call.model,
        "gen_ai.provider.name": call.provider,
    }
    with tracer.start_as_current_span(
        f"{call.operation} {call.model}", kind=_trace.SpanKind.CLIENT, attributes=attributes
    ) as span:

        def report(result: Any) -> None:
            usage = call.usage_of(result)
            if usage is not None:
                span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
                span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)

        try:
            yield report
        except Exception as exc:
            span.set_attribute("error.type", type(exc).__qualname__)
            raise


def _ignore(_: bool) -> None:
    """Nothing to record: tracing is off."""


_NO_STEP_SPAN: contextlib.nullcontext[Callable[[bool], None]] = contextlib.nullcontext(_ignore)
"""`step_span` without a tracer: reusable, since a nullcontext holds nothing between uses."""
