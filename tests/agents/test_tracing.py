"""Tracing (O1): a span per handled message, child spans per step, one trace per conversation."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import actorflow as af
from actorflow.journal import JournalBackend

from ..durable_support import GATES, Account, Deposit, Hold
from .support import LLMS, Agent, Ask, Llm, Relay, Relayer

pytestmark = pytest.mark.anyio


class Spans(InMemorySpanExporter):
    """The SDK's in-memory exporter behind a tracer provider of its own (not the global one)."""

    def __init__(self) -> None:
        super().__init__()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self))


@pytest.fixture
def spans() -> Iterator[Spans]:
    found = Spans()
    yield found
    found.provider.shutdown()


def by_name(found: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [s for s in found if s.name == name]


async def test_o1_a_conversation_across_three_actors_is_one_trace(
    journal: JournalBackend, spans: Spans
) -> None:
    async with af.ActorSystem(journal=journal, tracing=spans.provider) as system:
        a = await system.spawn(Relayer, name="a")
        await system.spawn(Relayer, name="b")
        await system.spawn(Relayer, name="c")
        await a.tell(Relay(["b", "c"]), id="start")
        await system.wait_idle()
    handled = by_name(spans.get_finished_spans(), "handle Relay")
    assert len(handled) == 3
    assert len({s.context.trace_id for s in handled}) == 1
    span_a, span_b, span_c = sorted(handled, key=lambda s: s.start_time or 0)
    assert [s.attributes["actorflow.actor"] for s in (span_a, span_b, span_c)] == ["a", "b", "c"]
    assert span_a.parent is None
    assert span_b.parent is not None
    assert span_b.parent.span_id == span_a.context.span_id
    assert span_c.parent is not None
    assert span_c.parent.span_id == span_b.context.span_id
    assert {s.attributes["actorflow.conversation"] for s in handled} == {"start"}
    assert {s.attributes["actorflow.outcome"] for s in handled} == {"handled"}


async def test_o1_steps_are_child_spans_and_failures_are_marked(
    journal: JournalBackend, spans: Spans
) -> None:
    LLMS["traced"] = Llm()
    async with af.ActorSystem(journal=journal, tracing=spans.provider) as system:
        agent = await system.spawn(Agent, "traced", name="agent")
        await agent.ask(Ask("hi", fail_first=True))
    found = spans.get_finished_spans()
    first, second = by_name(found, "handle Ask")
    assert (first.attributes["actorflow.attempt"], first.attributes["actorflow.outcome"]) == (
        1,
        "failed",
    )
    assert not first.status.is_ok
    assert (second.attributes["actorflow.attempt"], second.attributes["actorflow.outcome"]) == (
        2,
        "handled",
    )
    steps = by_name(found, "step complete") + by_name(found, "step complete#2")
    assert len(steps) == 4
    for step in steps:
        assert step.parent is not None
        assert step.parent.span_id in {first.context.span_id, second.context.span_id}
    replayed = {
        (s.name, s.parent.span_id == second.context.span_id): s.attributes[
            "actorflow.step.replayed"
        ]
        for s in steps
        if s.parent is not None
    }
    assert replayed == {
        ("step complete", False): False,
        ("step complete#2", False): False,
        ("step complete", True): True,
        ("step complete#2", True): True,
    }


async def test_o1_the_trace_survives_in_the_journal_across_a_restart(
    journal: JournalBackend, spans: Spans
) -> None:
    tracer = spans.provider.get_tracer("test")
    GATES["traced"] = anyio.Event()  # never set in the first run: Hold keeps the actor busy
    async with af.ActorSystem(journal=journal, tracing=spans.provider) as system:
        ref = await system.spawn(Account, "ann", name="traced", shutdown_timeout=0.05)
        await ref.tell(Hold())
        with tracer.start_as_current_span("request") as request:
            await ref.tell(Deposit(5))  # committed, then left pending by the shutdown
    GATES["traced"] = anyio.Event()
    GATES["traced"].set()
    async with af.ActorSystem(journal=journal, tracing=spans.provider) as system:
        await system.wait_idle()
    (deposit,) = by_name(spans.get_finished_spans(), "handle Deposit")
    assert deposit.context.trace_id == request.get_span_context().trace_id
    assert deposit.parent is not None
    assert deposit.parent.span_id == request.get_span_context().span_id


async def test_o1_tracing_is_off_without_a_configured_provider_unless_asked() -> None:
    async with af.ActorSystem(tracing=False) as system:
        assert system._services.tracer is None
    async with af.ActorSystem(tracing=True) as system:
        assert system._services.tracer is not None
