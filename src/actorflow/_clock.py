"""Time as the runtime sees it: restart intensity windows and backoff sleeps.

Tests swap in `actorflow.testing.FakeClock` so that "3 restarts in 5 s" is checked exactly,
without real sleeps.
"""

from __future__ import annotations

from typing import Protocol

import anyio

__all__ = ["Clock", "LoopClock"]


class Clock(Protocol):
    """What the runtime needs of a clock: the time now and a way to wait."""

    def now(self) -> float:
        """Return the current time in seconds (any fixed origin)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`; a cancellation point."""
        ...


class LoopClock:
    """The event loop's monotonic clock (the default)."""

    def now(self) -> float:
        return anyio.current_time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    def __repr__(self) -> str:
        return "<LoopClock>"
