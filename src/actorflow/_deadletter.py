"""Dead letters: messages that will not be handled, kept visible with the reason (S7)."""

from __future__ import annotations

import time
import traceback as tb
from dataclasses import dataclass
from typing import Literal, TypeAlias, final

from ._message import Message

__all__ = ["DeadLetter", "Reason"]

Reason: TypeAlias = Literal["failed", "stopped"]
"""Why a message is dead: its handler failed on every attempt, or its actor stopped for good."""


@final
@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that was accepted but will not be handled, and why.

    ``reason`` is ``"failed"`` when the handler raised on all ``attempts``, or on one whose
    error is not retryable (``error`` and ``traceback`` say how), ``"stopped"`` when the actor
    stopped for good with the message still queued. ``ActorSystem.requeue`` sends it again.
    """

    actor: str
    message: Message
    reason: Reason
    attempts: int
    error: str | None = None
    traceback: str | None = None
    time: float = 0.0
    id: str | None = None
    """The message's journal id, for a durable actor's message."""

    @classmethod
    def of(
        cls,
        actor: str,
        message: Message,
        attempts: int,
        error: BaseException | None,
        message_id: str | None = None,
    ) -> DeadLetter:
        """Describe `message` of `actor`: failed with `error`, or stopped when it is None."""
        if error is None:
            return cls(actor, message, "stopped", attempts, time=time.time(), id=message_id)
        return cls(
            actor,
            message,
            "failed",
            attempts,
            error=f"{type(error).__name__}: {error}",
            traceback="".join(tb.format_exception(error)),
            time=time.time(),
            id=message_id,
        )
