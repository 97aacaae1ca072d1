"""Helpers for testing actors: a fake clock, waiting for idleness, capturing logs.

```python
from actorflow import testing

async def test_counts() -> None:
    clock = testing.FakeClock(autojump=True)
    async with af.ActorSystem(clock=clock) as system:
        ref = await system.spawn(Counter)
        await ref.tell(Add(1))
        await testing.wait_idle(ref)
        assert ref.statistics().handled == 1
```
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, final

import anyio
import anyio.lowlevel

from . import replay as _replay
from ._ref import ActorRef, cell_of
from ._system import ActorSystem

__all__ = ["FakeClock", "capture_logs", "replay", "wait_idle"]


@final
class FakeClock:
    """A clock whose time moves only when told to, for deterministic tests of timing rules.

    Pass it as ``ActorSystem(clock=...)``: restart intensity windows (S4) and backoff sleeps (S5)
    then follow it. `advance` moves time and wakes the sleepers it passes. With
    ``autojump=True``, a sleep moves time forward by its own length at once, so backoffs cost no
    real time while the runtime still sees them pass.
    """

    def __init__(self, start: float = 0.0, *, autojump: bool = False) -> None:
        self._now = start
        self._autojump = autojump
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._order = itertools.count()
        self.slept: list[float] = []
        """Every sleep asked of this clock, in order (the backoffs a supervisor chose)."""

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self._autojump:
            self._now += max(0.0, seconds)
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), event))
        await event.wait()

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has come."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            heapq.heappop(self._sleepers)[2].set()

    @property
    def sleepers(self) -> int:
        """How many tasks are sleeping on this clock now."""
        return len(self._sleepers)

    def __repr__(self) -> str:
        return f"<FakeClock t={self._now:g} sleepers={len(self._sleepers)}>"


async def wait_idle(target: ActorRef[Any] | ActorSystem) -> None:
    """Wait until the actor (or every actor of the system) has an empty mailbox and waits."""
    if isinstance(target, ActorSystem):
        await target.wait_idle()
    else:
        await cell_of(target).wait_idle()


@final
class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def capture_logs(level: int = logging.DEBUG) -> Iterator[list[logging.LogRecord]]:
    """Collect the records actorflow logs inside the block, as a list of `logging.LogRecord`."""
    logger = logging.getLogger("actorflow")
    handler = _Records()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


async def replay(
    source: Any,
    conversation: str | None = None,
    *,
    live: Iterable[str] = (),
    fork_at: str | None = None,
    allow_divergence: bool = False,
) -> _replay.Replay:
    """Replay a recorded conversation (R1) and fail the test if it diverged.

    `source` is an open journal backend, a journal file or an ``actorflow.replay.Recording``;
    the mode is strict unless `live` or `fork_at` is given (see ``actorflow.replay.replay``).
    Raises `AssertionError` with the side-by-side diff when anything diverged, unless
    `allow_divergence`; returns the report either way.
    """
    report = await _replay.replay(source, conversation, live=live, fork_at=fork_at)
    if report.diverged and not allow_divergence:
        raise AssertionError(f"the replay diverged:\n{report.render()}")
    return report
