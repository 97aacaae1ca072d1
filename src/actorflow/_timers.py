"""Timers (J6): a message sent later, durable when its recipient is.

A durable timer is a row in the journal until it fires; firing appends its message (under the
timer's id) and deletes the row in one commit, so it fires once, also across restarts, and a
timer that came due while the system was down fires as soon as the system is back: late rather
than never. A timer set inside a handler is stored with that handler's commit (J3) and armed
after it. Timers for in-memory actors live in memory only.

One task sleeps until the soonest timer on the system's clock; with `testing.FakeClock` the
timers follow fake time.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import msgspec
from anyio.abc import TaskStatus

from . import _outbox, _tracing
from ._cell import ActorCell
from ._clock import Clock
from ._envelope import Envelope
from ._errors import ActorflowError, JournalError
from ._ids import new_message_id
from ._message import Message
from .durable import Durability, JournaledCell, Turn, Writer, record_for
from .journal import TimerRecord

__all__ = ["Timers", "When", "due_at"]

Background = Callable[[Callable[[Any], Coroutine[Any, Any, None]], Any], None]

logger = logging.getLogger("actorflow")

When = float | dt.timedelta | dt.datetime
"""When a timer fires: seconds from now, a timedelta from now, or a datetime (naive ones are
local time)."""


def due_at(when: When) -> float:
    """The Unix time `when` means; raises `ValueError` for a negative or non-finite delay."""
    if isinstance(when, dt.datetime):
        return when.timestamp()
    seconds = when.total_seconds() if isinstance(when, dt.timedelta) else float(when)
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"a timer's delay must be a finite number of seconds >= 0, not {when!r}")
    return time.time() + seconds


@dataclass(slots=True)
class _Armed:
    due: float
    recipient: str
    record: TimerRecord | None  # durable: what the journal holds
    message: Message | None  # in memory only
    target: ActorCell | None


class Timers:
    """The system's timers, armed in memory, fired by one task."""

    def __init__(self, clock: Clock, background: Background) -> None:
        self.clock = clock
        self.background = background
        self.durability: Durability | None = None  # set while the system's journal is open
        self._armed: dict[str, _Armed] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._changed = anyio.Event()
        self._sleep: anyio.CancelScope | None = None
        self._now = 0.0  # time as far as the clock's sleeps went (ahead of the wall: FakeClock)

    # -- setting and cancelling ----------------------------------------------------------------

    async def schedule(
        self, when: When, message: Message, target: ActorCell, sender: str | None
    ) -> str:
        """Set a timer sending `message` to `target`; returns its id (to cancel it).

        Inside a durable actor's handler the timer is stored with its turn's commit (J3).
        """
        if type(message) not in target.handlers:
            raise target.wrong_type(message)
        due = due_at(when)
        outbox = _outbox.current()
        turn = outbox if isinstance(outbox, Turn) else None
        # Inside a durable turn a timer takes its place among what the turn makes (R2).
        derived = None if turn is None else turn.child_id()
        if not isinstance(target, JournaledCell):
            timer_id = new_message_id()  # armed now, not journaled: an id of its own
            self._arm(timer_id, _Armed(due, target.name, None, message, target))
            return timer_id
        timer_id = derived or new_message_id()  # derived: a re-run of the turn makes it again
        record = TimerRecord(
            record_for(
                message,
                target.name,
                timer_id,
                sender if turn is None else turn.sender,
                None if turn is None else turn.conversation,
                None if turn is None else turn.cause,
                _tracing.current_traceparent() if _tracing.active else None,
            ),
            due,
        )
        if turn is not None:
            turn.set_timer(record)  # stored with the handler's commit, armed after it
            return timer_id
        await self._writer().schedule(record)
        self.arm(record)
        return timer_id

    async def cancel(self, timer_id: str) -> None:
        """Cancel a timer; one that fired already (or never existed) is left alone."""
        outbox = _outbox.current()
        if isinstance(outbox, Turn):
            outbox.cancel_timer(timer_id)  # cancelled with the handler's commit
            return
        armed = self._armed.get(timer_id)
        if self.durability is not None and (armed is None or armed.record is not None):
            await self._writer().cancel(timer_id)
        self._armed.pop(timer_id, None)

    def _writer(self) -> Writer:
        if self.durability is None or not self.durability.is_open:
            raise ActorflowError("the system's journal is closed")
        return self.durability.writer

    def committed(self, timers: Sequence[TimerRecord], cancels: Sequence[str]) -> None:
        """After a handler's commit: arm the timers it set, drop those it cancelled."""
        for record in timers:
            self.arm(record)
        for timer_id in cancels:
            self._armed.pop(timer_id, None)

    def arm(self, record: TimerRecord) -> None:
        """Arm a durable timer stored in the journal."""
        self._arm(record.id, _Armed(record.due_at, record.message.recipient, record, None, None))

    def _arm(self, timer_id: str, armed: _Armed) -> None:
        self._armed[timer_id] = armed
        heapq.heappush(self._heap, (armed.due, next(self._order), timer_id))
        if self._heap[0][2] == timer_id:  # sooner than what the task sleeps for
            self._changed.set()
            if self._sleep is not None:
                self._sleep.cancel()

    def armed(self) -> dict[str, float]:
        """The armed timers' ids and due times (for tests and inspection)."""
        return {timer_id: armed.due for timer_id, armed in self._armed.items()}

    # -- firing --------------------------------------------------------------------------------

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Fire timers as they come due, until cancelled."""
        clock = self.clock
        task_status.started()
        while True:
            now = self._now = max(time.time(), self._now)
            heap = self._heap
            while heap and heap[0][0] <= now:
                _, _, timer_id = heapq.heappop(heap)
                armed = self._armed.pop(timer_id, None)
                if armed is not None:
                    self._fire(armed)
            while heap and heap[0][2] not in self._armed:
                heapq.heappop(heap)  # cancelled
            self._changed = anyio.Event()
            if not heap:
                await self._changed.wait()
                continue
            started = clock.now()
            with anyio.CancelScope() as self._sleep:
                await clock.sleep(heap[0][0] - now)
            self._sleep = None
            # As far as the clock went: a fake clock's time runs ahead of the wall's.
            self._now = now + (clock.now() - started)

    def _fire(self, armed: _Armed) -> None:
        if armed.record is None:
            assert armed.target is not None
            assert armed.message is not None
            armed.target.deliver(Envelope(armed.message))  # a dead letter if it stopped
            return
        self.background(self._fire_durable, armed.record)

    async def _fire_durable(self, record: TimerRecord) -> None:
        durability = self.durability
        if durability is None or not durability.is_open:
            return  # shutting down: the timer stays in the journal and fires after a restart
        if not durability.owns(record.message.recipient):
            return  # its actor moved to another node, which fires it (C3)
        take_in = durability.recovery.take_in

        def deliver(seq: int | None) -> None:
            # The actor is looked up now, right after the commit: one coming back meanwhile
            # has read the journal before it (and gets it here) or reads it after (J5).
            if seq is not None:
                take_in([msgspec.structs.replace(record.message, seq=seq)])

        try:
            await durability.writer.fire(record, deliver)
        except JournalError as exc:
            # Not fired: the timer is still in the journal. Try again in a second, or, if the
            # system is stopping, after the next start.
            logger.warning("timer %s could not fire (%s); it stays in the journal", record.id, exc)
            if durability.is_open and durability.owns(record.message.recipient):
                self.arm(msgspec.structs.replace(record, due_at=time.time() + 1.0))
