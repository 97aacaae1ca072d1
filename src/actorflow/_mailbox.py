"""The bounded mailbox: a FIFO of envelopes with one consumer and waiting senders (A1, A2).

Hand-written on a deque and loop futures rather than an anyio memory stream, for three reasons:
a waiting consumer is only woken, never handed the item, so cancelling an idle actor can never
lose a message; "idle" (consumer waiting, nothing queued) is exact, which ``wait_idle`` needs;
and the fast paths are a few attribute reads (put+get ~0.3 us here).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
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

    __slots__ = ("_consumer", "_items", "_senders", "capacity", "closed", "reserved")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.closed = False
        self.reserved = 0  # room promised to senders whose message is on its way (a journal commit)
        self._items: deque[Envelope] = deque()
        self._consumer: asyncio.Future[None] | None = None
        # Senders waiting for room, in arrival order; None reserves room instead of adding.
        # Invariant: non-empty only while full.
        self._senders: deque[tuple[asyncio.Future[None], Envelope | None]] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Envelope]:
        """The queued envelopes, oldest first."""
        return iter(self._items)

    @property
    def idle(self) -> bool:
        """True while the consumer waits and nothing is queued."""
        return self._consumer is not None and not self._items

    def put_nowait(self, envelope: Envelope) -> None:
        """Append `envelope`; raises `Full` or `Closed` and then appends nothing."""
        if self.closed:
            raise Closed
        items = self._items
        if len(items) + self.reserved >= self.capacity:
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

    def force(self, envelope: Envelope) -> None:
        """Append `envelope` even past capacity: for messages the journal already committed.

        Raises `Closed` if the mailbox is closed.
        """
        if self.closed:
            raise Closed
        self._items.append(envelope)
        self.wake()

    def reserve_nowait(self) -> bool:
        """Promise room for one envelope if there is some now; raises `Closed` if closed."""
        if self.closed:
            raise Closed
        if len(self._items) + self.reserved < self.capacity:
            self.reserved += 1
            return True
        return False

    async def reserve(self) -> None:
        """Promise room for one envelope, waiting in line for it; `put_reserved` fills it."""
        if self.reserve_nowait():
            return
        waiter = _get_running_loop().create_future()
        self._senders.append((waiter, None))
        await waiter

    def put_reserved(self, envelope: Envelope) -> None:
        """Fill a reserved place with `envelope` (never refused while open)."""
        self.reserved -= 1
        self.force(envelope)

    def release(self) -> None:
        """Give back a reserved place that will not be filled."""
        self.reserved -= 1
        self._admit()

    def push_front(self, envelopes: list[Envelope]) -> None:
        """Put `envelopes` back at the front, in order, past capacity: they were taken out
        and are to be handled again first (a durable turn whose commit failed, J3)."""
        self._items.extendleft(reversed(envelopes))
        if envelopes:
            self.wake()

    def peek(self) -> Envelope | None:
        """The oldest envelope, left in place, or None."""
        return self._items[0] if self._items else None

    def get_nowait(self) -> Envelope | None:
        """Pop the oldest envelope, or return None if there is none."""
        items = self._items
        if not items:
            return None
        envelope = items.popleft()
        if self._senders:
            self._admit()
        return envelope

    def _admit(self) -> None:
        """Let the first waiting sender in, if there is room for it."""
        senders = self._senders
        while senders and len(self._items) + self.reserved < self.capacity:
            waiter, waiting = senders.popleft()
            if waiter.done():
                continue  # cancelled while waiting
            if waiting is None:
                self.reserved += 1
            else:
                self._items.append(waiting)
            waiter.set_result(None)
            return

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
