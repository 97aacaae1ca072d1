"""The ports of the supervision tree: what cells and supervisors need from above them (L1).

The system implements `Runtime` (``_services.Services``) and is the root supervisor's
`Parent`; supervisors are their children's `Parent`. The core imports neither the system nor
the journal: whatever it needs from them comes through these.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

from ._clock import Clock
from ._deadletter import DeadLetter
from ._deadlines import Deadlines

__all__ = ["Parent", "Runtime", "Supervising"]

T = TypeVar("T")


class Runtime(Protocol):
    """The services of a running system that its cells and supervisors use."""

    @property
    def clock(self) -> Clock:
        """Backoff sleeps and restart intensity windows follow this clock (S4, S5)."""
        ...

    @property
    def deadlines(self) -> Deadlines:
        """Where asks register their timeouts (A3)."""
        ...

    @property
    def tracer(self) -> Any:
        """The OpenTelemetry tracer, or None when the system does not trace (O1)."""
        ...

    @property
    def system(self) -> object:
        """The `ActorSystem` itself, opaque to the core: what ``ctx.system`` returns."""
        ...

    def dead_letter(self, letter: DeadLetter) -> None:
        """Keep `letter` where ``system.dead_letters`` shows it."""
        ...

    def retire(self, member: Any) -> None:
        """`member` (a cell) stopped for good or left memory: off the registry, its counters
        kept in the system's totals."""
        ...

    def background(self, fn: Callable[[T], Coroutine[Any, Any, None]], arg: T) -> None:
        """Run a chore (a delivery that waits for room) in the system's task group."""
        ...

    def halt(self, exc: BaseException) -> None:
        """A handler raised `exc` (``SystemExit``, ``KeyboardInterrupt``): stop the system and
        raise it from the system's block (S9)."""
        ...


class Parent(Protocol):
    """Whoever supervises a member: a supervisor, or the system for the root supervisor."""

    def child_exited(self, child: Any, incarnation: int, error: BaseException | None) -> None:
        """`child`'s incarnation ended; `error` is None for a normal exit."""
        ...


class Supervising(Parent, Protocol):
    """An actor's parent: always a supervisor."""

    @property
    def name(self) -> str:
        """The supervisor's name."""
        ...

    async def remove(self, child: Any) -> None:
        """Stop `child` for good and wait until it has stopped."""
        ...
