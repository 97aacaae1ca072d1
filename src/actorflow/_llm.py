"""`LLMCall`: a step that declares itself a call to a model, for its span (O3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["LLMCall", "TokenUsage"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """How many tokens one model call took in and gave out (``gen_ai.usage.*``)."""

    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)  # not slots: ``LLMCall[T](...)`` sets ``__orig_class__`` on it
class LLMCall(Generic[T]):
    """Declares a step an LLM call: ``ctx.step("llm", fn, prompt, llm=LLMCall(...))`` (O3).

    When the system traces, the call of `fn` (not a replay of its record) is a
    ``{operation} {model}`` span (``chat gpt-4o``), child of the step's span, with OpenTelemetry's
    GenAI attributes: ``gen_ai.operation.name``, ``gen_ai.request.model``,
    ``gen_ai.provider.name`` and, when `usage` returns it for the step's result,
    ``gen_ai.usage.input_tokens`` and ``gen_ai.usage.output_tokens``. Without tracing it costs
    nothing.
    """

    model: str
    provider: str
    operation: str = "chat"
    usage: Callable[[T], TokenUsage | None] | None = None

    def usage_of(self, result: Any) -> TokenUsage | None:
        """The token usage `usage` reads from a step's result, if any."""
        return None if self.usage is None else self.usage(result)
