"""The envelope: a message in a mailbox with what the runtime needs to deliver it."""

from __future__ import annotations

from asyncio import Future
from typing import Any, final

from . import _tracing
from ._message import Message

__all__ = ["Envelope"]


@final
class Envelope:
    """A message on its way: the reply slot of an ask and the failed attempts so far (S7).

    Journaled messages also carry their journal id, their conversation (J7) and whether their
    next attempt is already counted (claimed) in the journal; traced ones, the trace context
    of the span that sent them (O1).
    """

    __slots__ = ("attempts", "claimed", "conversation", "id", "message", "reply", "seq", "trace")

    def __init__(
        self,
        message: Message,
        reply: Future[Any] | None = None,
        id: str | None = None,
        attempts: int = 0,
        conversation: str | None = None,
    ) -> None:
        self.message = message
        self.reply = reply
        self.id = id
        self.attempts = attempts
        self.claimed = False
        self.seq: int | None = None  # the journal's sequence number, once committed
        self.conversation = conversation
        # The sending span's context, so that the handling span is its child (O1).
        self.trace = _tracing.current_traceparent() if _tracing.active else None
