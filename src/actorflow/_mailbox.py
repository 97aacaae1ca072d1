"""The bounded mailbox: a FIFO of envelopes with one consumer and waiting senders (A1, A2).

Hand-written on a deque and loop futures rather than an anyio memory stream, for three reasons:
a waiting consumer is only woken, never handed the item, so cancelling an idle actor can never
lose a message; "idle" (consumer waiting, nothing queued) is exact, which ``wait_idle`` needs;
and the fast paths are a few attribute reads (put+get ~0.3 us here).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import final

from ._envelope import Envelope

__all__ = ["Closed", "Full", "Mailbox"]

_get_running_loop = asyncio.get_running_loop


class Full(Exception):
    """Internal: the mailbox has no room."""


class Closed(Exception):
    """Internal: the mailbox was closed; its actor stopped for good."""


@final
class Mailbox:
    """A bounded FIFO of envelopes for one consumer task."""

    __slots__ = ("_consumer", "_items", "_senders", "capacity", "closed")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.closed = False
        self._items: deque[Envelope] = deque()
        self._consumer: asyncio.Future[None] | None = None
        # Senders waiting for room, in arrival order. Invariant: non-empty only while full.
        self._senders: deque[tuple[asyncio.Future[None], Envelope]] = deque()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def idle(self) -> bool:
        """True while the consumer waits and nothing is queued."""
        return self._consumer is not None and not self._items

    def put_nowait(self, envelope: Envelope) -> None:
        """Append `envelope`; raises `Full` or `Closed` and then appends nothing."""
        if self.closed:
            raise Closed
        items = self._items
        if len(items) >= self.capacity:
            raise Full
        items.append(envelope)
        consumer = self._consumer
        if consumer is not None:
            self._consumer = None
            if not consumer.done():
                consumer.set_result(None)

    async def put(self, envelope: Envelope) -> None:
        """Append `envelope`, waiting in line for room; raises `Closed` if the mailbox closes."""
        try:
            self.put_nowait(envelope)
            return
        except Full:
            pass
        waiter = _get_running_loop().create_future()
        self._senders.append((waiter, envelope))
        # On cancellation the future is cancelled and `get_nowait` skips it: the envelope is
        # either admitted (the send happened) or never was.
        await waiter

    def get_nowait(self) -> Envelope | None:
        """Pop the oldest envelope, or return None if there is none."""
        items = self._items
        if not items:
            return None
        envelope = items.popleft()
        senders = self._senders
        while senders:
            waiter, waiting = senders.popleft()
            if not waiter.done():
                items.append(waiting)
                waiter.set_result(None)
                break
        return envelope

    async def wait(self) -> None:
        """Wait until something is queued or `wake` is called (the consumer only)."""
        if self._items or self.closed:
            return
        consumer = _get_running_loop().create_future()
        self._consumer = consumer
        try:
            await consumer
        finally:
            self._consumer = None

    def wake(self) -> None:
        """Wake a waiting consumer without giving it anything (to see a stop request)."""
        consumer = self._consumer
        if consumer is not None:
            self._consumer = None
            if not consumer.done():
                consumer.set_result(None)

    def close(self) -> list[Envelope]:
        """Refuse new envelopes and return the queued ones.

        Queued envelopes were acknowledged to their senders; senders still waiting for room were
        not, and get `Closed`.
        """
        self.closed = True
        queued = list(self._items)
        self._items.clear()
        while self._senders:
            waiter, _ = self._senders.popleft()
            if not waiter.done():
                waiter.set_exception(Closed())
        self.wake()
        return queued
