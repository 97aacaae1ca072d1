"""`Services`: a running system's registry and services, as its cells and supervisors see them.

The system makes one and wires it in: it is the `Runtime` every cell is given, the `Tree` of
every supervisor, the `Registry` durability needs, and the root supervisor's `Parent`. It is
the one place that decides which kind of cell a spec gets (J1).
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar, final

from anyio.abc import TaskGroup

from ._cell import ActorCell
from ._clock import Clock
from ._deadletter import DeadLetter
from ._deadlines import Deadlines
from ._errors import ActorExists, ActorflowError, ActorNotFound, ActorStopped, SupervisorGaveUp
from ._names import normal_name
from ._spec import Child
from ._supervisor import Member, SupervisorCell
from ._timers import Timers
from .durable import Durability

__all__ = ["Services", "SystemStatistics"]

logger = logging.getLogger("actorflow")

T = TypeVar("T")


@final
@dataclass(frozen=True, slots=True)
class SystemStatistics:
    """A snapshot of a system's counters (O2); `escalations` counts supervisors that gave up."""

    actors: int
    supervisors: int
    handled: int
    failed: int
    restarts: int
    dead_letters: int
    escalations: int


@dataclass(slots=True)
class Totals:
    """Counters of actors that stopped for good or left memory (O2)."""

    handled: int = 0
    failed: int = 0
    restarts: int = 0


class Services:
    """The registry and services of one system (internal)."""

    def __init__(self, system: object, clock: Clock, dead_letter_limit: int) -> None:
        self.system = system
        self.clock = clock
        self.deadlines: Deadlines  # made when the system starts, on its event loop
        self.tracer: Any = None
        self.durability: Durability | None = None
        self.state = "new"
        self.root: SupervisorCell | None = None
        self.tg: TaskGroup | None = None
        self.failure: BaseException | None = None  # what the system's block raises
        self.cells: dict[str, ActorCell] = {}
        self.supervisors: dict[str, SupervisorCell] = {}
        self.letters: deque[DeadLetter] = deque(maxlen=dead_letter_limit)
        self.dead_letter_count = 0
        self.escalations = 0
        self.retired = Totals()
        self.timers = Timers(clock, self.background)
        self._anonymous = itertools.count(1)

    @property
    def running(self) -> bool:
        return self.state == "running"

    # -- the registry --------------------------------------------------------------------------

    def make_cell(self, spec: Child, parent: SupervisorCell) -> ActorCell:
        name = spec.name
        if name is None:
            name = f"{spec.actor.__name__}#{next(self._anonymous)}"
        if name in self.cells:
            raise ActorExists(f"an actor called {name!r} is already running")
        durability = self.durability
        if durability is not None and spec.name is not None and not spec.ephemeral:
            cell: ActorCell = durability.make_cell(spec, name, self, parent)
        else:
            cell = ActorCell(spec, name, self, parent)
        self.cells[name] = cell
        return cell

    def find(self, name: str) -> ActorCell | None:
        return self.cells.get(normal_name(name))

    def find_supervisor(self, name: str) -> SupervisorCell | None:
        return self.supervisors.get(normal_name(name))

    def register(self, cell: ActorCell) -> None:
        if cell.name in self.cells:
            raise ActorExists(f"an actor called {cell.name!r} is already running")
        self.cells[cell.name] = cell

    def retire(self, member: Any) -> None:
        cell = self.cells.get(member.name)
        if cell is member:
            del self.cells[cell.name]
            self.retired.handled += cell.handled
            self.retired.failed += cell.failed
            self.retired.restarts += cell.restarts

    def register_supervisor(self, sup: SupervisorCell) -> None:
        if sup.name in self.supervisors:
            raise ActorExists(f"a supervisor called {sup.name!r} is already running")
        self.supervisors[sup.name] = sup

    def unregister_supervisor(self, sup: SupervisorCell) -> None:
        if self.supervisors.get(sup.name) is sup:
            del self.supervisors[sup.name]

    # -- services ------------------------------------------------------------------------------

    def dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append(letter)
        self.dead_letter_count += 1

    def escalated(self) -> None:
        self.escalations += 1

    def background(self, fn: Callable[[T], Coroutine[Any, Any, None]], arg: T) -> None:
        """Run a runtime chore (a delivery that must wait for room) in the system's task group.

        A chore that fails is logged; it never takes the system down.
        """
        if self.tg is not None:
            self.tg.start_soon(_chore, fn, arg)

    def halt(self, exc: BaseException) -> None:
        logger.warning(
            "a handler raised %s: the actor system stops", type(exc).__name__, exc_info=exc
        )
        self.fail(exc)

    def fail(self, exc: BaseException) -> None:
        """Stop the system at once; its block raises `exc` (S4, S9)."""
        if self.state != "running":
            return
        self.failure = exc
        self.state = "failed"
        assert self.tg is not None
        self.tg.cancel_scope.cancel()

    # -- observation ---------------------------------------------------------------------------

    async def wait_idle(self) -> None:
        """Wait until every actor has an empty mailbox and waits for more."""
        while True:
            busy = [cell for cell in self.cells.values() if not cell.idle]
            if not busy:
                return
            for cell in busy:
                await cell.wait_idle()

    def statistics(self) -> SystemStatistics:
        """A snapshot of the counters, including actors that stopped for good (O2)."""
        cells = self.cells.values()
        retired = self.retired
        return SystemStatistics(
            actors=len(self.cells),
            supervisors=len(self.supervisors),
            handled=retired.handled + sum(c.handled for c in cells),
            failed=retired.failed + sum(c.failed for c in cells),
            restarts=retired.restarts + sum(c.restarts for c in cells),
            dead_letters=self.dead_letter_count,
            escalations=self.escalations,
        )

    # -- the root supervisor's parent ------------------------------------------------------------

    def child_exited(self, child: Member, incarnation: int, error: BaseException | None) -> None:
        """The root supervisor ended: on a failure (it gave up), the whole system stops."""
        if error is None:
            return
        self.fail(
            error
            if isinstance(error, SupervisorGaveUp)
            else SupervisorGaveUp(str(error), supervisor=child.name, actor=child.name)
        )

    def supervisor(self, name: str | None) -> SupervisorCell:
        """The supervisor called `name` (the root for None), which must be running."""
        if self.state != "running" or self.root is None:
            raise ActorflowError(f"the actor system is {self.state}, not running")
        if name is None:
            return self.root
        sup = self.find_supervisor(name)
        if sup is None:
            raise ActorNotFound(f"no running supervisor is called {name!r}")
        return sup


async def _chore(fn: Callable[[T], Coroutine[Any, Any, None]], arg: T) -> None:
    try:
        await fn(arg)
    except ActorStopped:
        pass  # its recipient stopped meanwhile: a durable one keeps it in the journal
    except Exception:
        logger.exception("a background delivery failed")
