"""The outbox of a turn (J3): where sends made inside a handler wait for its commit.

The core knows only this port. A durable actor's turn (``durable._turn.Turn``) is the outbox
while its handler runs: ``ref.tell`` inside that handler hands the message to it instead of
the recipient, and timers set there are stored with the same commit. Outside any turn the
lookup costs one integer test, so the in-memory hot path does not pay for durability.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Protocol

from ._message import Message

if TYPE_CHECKING:
    from ._target import Target

__all__ = ["Outbox", "current", "enter", "leave", "opened"]


class Outbox(Protocol):
    """Holds what a handler sends until its turn commits."""

    @property
    def conversation(self) -> str | None:
        """The conversation what it sends joins (J7)."""
        ...

    @property
    def sender(self) -> str:
        """The name of the actor whose handler is running."""
        ...

    @property
    def cause(self) -> str | None:
        """The id of the message being handled."""
        ...

    def send(self, target: Target, message: Message, message_id: str | None) -> None:
        """Hold `message` for `target` until the turn commits."""
        ...

    @property
    def closed(self) -> bool:
        """True once the handler returned (a task it started may still hold the context)."""
        ...


_current: contextvars.ContextVar[Outbox | None] = contextvars.ContextVar(
    "actorflow_outbox", default=None
)

opened = 0
"""How many outboxes are open now, in any task: while none is, a send need not look (the
in-memory hot path tests this one integer)."""


def current() -> Outbox | None:
    """The outbox of the turn the calling task runs in, or None outside any turn."""
    if not opened:
        return None
    outbox = _current.get()
    return None if outbox is None or outbox.closed else outbox


def enter(outbox: Outbox) -> contextvars.Token[Outbox | None]:
    """Make `outbox` current for the calling task; `leave` with the token undoes it."""
    global opened
    opened += 1
    return _current.set(outbox)


def leave(token: contextvars.Token[Outbox | None]) -> None:
    """Close the outbox `enter` opened: sends after this go straight to their recipients."""
    global opened
    opened -= 1
    _current.reset(token)
