"""The lifecycle of actors and supervisors (S9): one phase value, its transitions in one table.

A member of a supervision tree (an actor cell or a supervisor) lives as a series of
incarnations. Its phase says where it is; `Lifecycle.enter` is the only place it changes, and
it refuses a transition the table does not list, so no member can read "running" while it waits
in a backoff, or stay in a phase it cannot leave.

    NEW -> STARTING -> RUNNING -> (EXITING | STOPPING | PASSIVATING) -> DOWN | HALTED
    DOWN | HALTED -> RESTARTING -> STARTING ...      any -> STOPPED (for good)
    PASSIVATING -> PASSIVATED -> STARTING (its next message brings it back)

An incarnation that ends by itself (a failure, or ``ctx.stop()``) is DOWN: its supervisor
decides what comes next. One its supervisor stopped is HALTED: the supervisor knows why.
"""

from __future__ import annotations

import asyncio
import enum
from typing import Final

import anyio

from ._target import Status

__all__ = ["Lifecycle", "Phase", "is_fatal", "is_requested_cancel", "is_retryable"]


class Phase(enum.Enum):
    """Where a member of a supervision tree is in its life."""

    NEW = "new"  # made, never started
    STARTING = "starting"  # an incarnation is launched: restore, constructor, on_start
    RUNNING = "running"  # handling messages
    EXITING = "exiting"  # ctx.stop(): ends after its current message, a normal exit
    STOPPING = "stopping"  # its supervisor stops it: after its current message, on_stop
    PASSIVATING = "passivating"  # idle and durable: unloading from memory (J5)
    DOWN = "down"  # the incarnation ended by itself; its supervisor decides what next
    HALTED = "halted"  # the incarnation ended because its supervisor stopped it
    RESTARTING = "restarting"  # waiting out a backoff before its next incarnation (S5)
    PASSIVATED = "passivated"  # out of memory until its next message (J5)
    STOPPED = "stopped"  # for good: its mailbox is closed


NEW, STARTING, RUNNING, EXITING, STOPPING, PASSIVATING = (
    Phase.NEW,
    Phase.STARTING,
    Phase.RUNNING,
    Phase.EXITING,
    Phase.STOPPING,
    Phase.PASSIVATING,
)
DOWN, HALTED, RESTARTING, PASSIVATED, STOPPED = (
    Phase.DOWN,
    Phase.HALTED,
    Phase.RESTARTING,
    Phase.PASSIVATED,
    Phase.STOPPED,
)

_NEXT: Final[dict[Phase, frozenset[Phase]]] = {
    NEW: frozenset({STARTING, RESTARTING, STOPPED}),
    STARTING: frozenset({RUNNING, EXITING, STOPPING, DOWN, STOPPED}),
    RUNNING: frozenset({EXITING, STOPPING, PASSIVATING, DOWN, STOPPED}),
    EXITING: frozenset({STOPPING, DOWN, STOPPED}),
    STOPPING: frozenset({HALTED, STOPPED}),
    PASSIVATING: frozenset({STOPPING, PASSIVATED, STOPPED}),
    DOWN: frozenset({STARTING, RESTARTING, STOPPED}),
    HALTED: frozenset({STARTING, RESTARTING, STOPPED}),
    RESTARTING: frozenset({STARTING, STOPPING, STOPPED}),
    PASSIVATED: frozenset({STARTING, STOPPED}),
    STOPPED: frozenset(),
}

# What `ActorRef.status` and the statistics say of each phase.
STATUS: Final[dict[Phase, Status]] = {
    NEW: "starting",
    STARTING: "starting",
    RUNNING: "running",
    EXITING: "stopping",
    STOPPING: "stopping",
    PASSIVATING: "stopping",
    DOWN: "restarting",  # as OTP's which_children says of a child its supervisor restarts
    HALTED: "stopping",
    RESTARTING: "restarting",
    PASSIVATED: "passivated",
    STOPPED: "stopped",
}


class Lifecycle:
    """A member's phase and incarnations; subclassed by the actor cell and the supervisor."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.phase = NEW
        self.incarnation = 0
        self.restarts = 0
        self._ended = anyio.Event()
        self._ended.set()

    def enter(self, phase: Phase) -> None:
        """Move to `phase`; a transition the table does not list is a bug in the runtime."""
        if phase not in _NEXT[self.phase]:
            raise AssertionError(f"{self.name}: no transition from {self.phase} to {phase}")
        self.phase = phase

    @property
    def status(self) -> Status:
        """The phase as `ActorRef.status` reports it."""
        return STATUS[self.phase]

    @property
    def alive(self) -> bool:
        """True from the moment an incarnation is launched until it has ended."""
        return not self._ended.is_set()

    def launch(self, delay: float) -> int:
        """Begin a new incarnation (in its backoff first, if `delay`); returns its number."""
        self.incarnation += 1
        self.enter(RESTARTING if delay > 0 else STARTING)
        self._ended = anyio.Event()
        return self.incarnation

    def ended(self) -> None:
        """The running incarnation has ended: DOWN, HALTED if its supervisor stopped it."""
        if self.phase is STOPPING:
            self.enter(HALTED)
        elif self.phase not in (PASSIVATING, STOPPED, HALTED):
            self.enter(DOWN)
        self._ended.set()

    async def wait_ended(self) -> None:
        """Wait until the running incarnation (if any) has ended."""
        await self._ended.wait()


def is_requested_cancel(exc: BaseException) -> bool:
    """Whether `exc` is a cancellation the runtime asked for (a cancel scope), rather than a
    ``CancelledError`` the actor's own code raised, such as a cancelled future in a client
    library (S9): only the first ends an incarnation without a failure."""
    if not isinstance(exc, asyncio.CancelledError):
        return False
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


def is_retryable(exc: BaseException) -> bool:
    """Whether another attempt at the message that raised `exc` could end otherwise (S7): not
    when its class says ``retryable = False`` (`StepOutcomeUnknown`), nor for a group holding
    such an error, which the next attempt would meet again."""
    if isinstance(exc, BaseExceptionGroup):
        return all(is_retryable(inner) for inner in exc.exceptions)
    return getattr(type(exc), "retryable", True) is not False


def is_fatal(exc: BaseException) -> bool:
    """Whether `exc` stops the whole system rather than failing one message (S9)."""
    return isinstance(exc, KeyboardInterrupt | SystemExit)
