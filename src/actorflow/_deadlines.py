"""Ask timeouts grouped by millisecond: one loop timer per millisecond that has deadlines.

A timer per ask (``loop.call_later`` + ``cancel``) costs ~1.7 us on uvloop here, a third of an
ask's round trip. Asks whose deadlines fall in the same millisecond share one bucket and one
timer instead; an answered ask leaves its bucket at once, so only pending asks are held.
A deadline fires at most 1 ms late.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, final

from ._errors import AskTimeout

__all__ = ["Deadlines"]

_RESOLUTION = 0.001  # seconds per bucket

Bucket = dict["asyncio.Future[Any]", tuple[str, type, float]]


@final
class Deadlines:
    """Fails ask futures with `AskTimeout` when they are still pending at their deadline."""

    __slots__ = ("_buckets", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._buckets: dict[int, Bucket] = {}

    def add(
        self, future: asyncio.Future[Any], timeout: float, what: tuple[str, type, float]
    ) -> Bucket:
        """Fail `future` after `timeout` seconds unless it is done by then.

        `what` is (actor name, message type, timeout) for the error's text. Returns the bucket:
        ``bucket.pop(future, None)`` once the future is done releases it.
        """
        slot = math.ceil((self._loop.time() + timeout) / _RESOLUTION)
        bucket = self._buckets.get(slot)
        if bucket is None:
            bucket = self._buckets[slot] = {}
            self._loop.call_at(slot * _RESOLUTION, self._expire, slot)
        bucket[future] = what
        return bucket

    def left(self, future: asyncio.Future[Any]) -> float | None:
        """The seconds left until `future`'s deadline, or None if it has none here.

        A scan of the buckets: for the rare caller that must pass a deadline on (an ask across
        nodes, C4), never on an ask's own path."""
        for slot, bucket in self._buckets.items():
            if future in bucket:
                return max(slot * _RESOLUTION - self._loop.time(), 0.0)
        return None

    def _expire(self, slot: int) -> None:
        for future, (actor, message_type, timeout) in self._buckets.pop(slot).items():
            if not future.done():
                future.set_exception(
                    AskTimeout(
                        f"{actor} did not reply to {message_type.__name__} within {timeout:g} s"
                    )
                )

    def __len__(self) -> int:
        return sum(len(bucket) for bucket in self._buckets.values())
