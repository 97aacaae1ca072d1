"""The envelope: a message in a mailbox with what the runtime needs to deliver it."""

from __future__ import annotations

from asyncio import Future
from typing import Any, final

from ._message import Message

__all__ = ["Envelope"]


@final
class Envelope:
    """A message on its way: the reply slot of an ask and the attempts made so far (S7)."""

    __slots__ = ("attempts", "message", "reply")

    def __init__(self, message: Message, reply: Future[Any] | None = None) -> None:
        self.message = message
        self.reply = reply
        self.attempts = 0
