"""The supervisor at run time: starts children in order, restarts them by strategy (S1-S6, S8).

Like an OTP supervisor it does one thing at a time: a child's exit is an event in its queue, and
restarting a group (one-for-all, rest-for-one) finishes before the next event is looked at. A
one-for-one restart's backoff sleeps inside the restarted child, so siblings are never held up.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias

import anyio
import tenacity
from anyio.abc import TaskGroup, TaskStatus

from ._cell import ActorCell
from ._errors import ActorStopped, StartFailed, SupervisorGaveUp
from ._spec import Child, Restart, Supervisor

if TYPE_CHECKING:
    from ._system import ActorSystem

__all__ = ["Parent", "SupervisorCell"]

logger = logging.getLogger("actorflow")

Member: TypeAlias = "ActorCell | SupervisorCell"


class Parent(Protocol):
    """Whoever supervises a supervisor: another supervisor, or the system for the root."""

    def child_exited(self, child: Member, incarnation: int, error: BaseException | None) -> None:
        """Called when `child`'s incarnation ended; `error` is None for a normal exit."""
        ...


@dataclass(frozen=True, slots=True)
class _Exited:
    child: Member
    incarnation: int
    error: BaseException | None


@dataclass(frozen=True, slots=True)
class _StopChild:
    child: Member
    done: anyio.Event


class SupervisorCell:
    """The runtime of one `Supervisor` spec (internal)."""

    def __init__(self, spec: Supervisor, system: ActorSystem, parent: Parent) -> None:
        self.spec = spec
        self.name = spec.name
        self.system = system
        self.parent = parent
        self.restart: Restart = spec.restart
        self.status = "starting"
        self.incarnation = 0
        self.restarts = 0
        self.stopping = False
        self.children: list[Member] = []
        self._restart_times: deque[float] = deque()
        self._streaks: dict[int, tuple[int, float]] = {}  # id(child) -> (restarts in a row, last)
        self._events: deque[_Exited | _StopChild] = deque()
        self._signal = anyio.Event()
        self._scope: anyio.CancelScope | None = None
        self._loop_scope: anyio.CancelScope | None = None
        self._tg: TaskGroup | None = None
        self._ended = anyio.Event()
        self._ended.set()
        system._register_supervisor(self)
        try:
            for child_spec in spec.children:
                self.children.append(self._make(child_spec))
        except BaseException:
            self.finish(None)
            raise

    def _make(self, spec: Child | Supervisor) -> Member:
        if isinstance(spec, Supervisor):
            return SupervisorCell(spec, self.system, self)
        return self.system._new_cell(spec, self)

    # -- as a child of its parent --------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return not self._ended.is_set()

    async def start(self, tg: TaskGroup, *, first: bool) -> None:
        incarnation = self._prepare()
        await tg.start(self._live, incarnation, 0.0, first)

    def start_soon(self, tg: TaskGroup, delay: float) -> None:
        incarnation = self._prepare()
        tg.start_soon(self._live, incarnation, delay, False, name=f"supervisor {self.name}")

    def _prepare(self) -> int:
        self.incarnation += 1
        self.stopping = False
        self._restart_times.clear()  # a restarted supervisor starts with a clean slate (OTP)
        self._streaks.clear()
        self.status = "starting"
        self._ended = anyio.Event()
        return self.incarnation

    async def shutdown(self) -> None:
        """Stop every child in reverse start order, then end; works mid-restart too (S8)."""
        if not self.alive:
            return
        self.stopping = True
        self.status = "stopping"
        for scope in (self._loop_scope, self._scope if self._tg is None else None):
            if scope is not None:
                scope.cancel()
        await self._ended.wait()

    def finish(self, error: BaseException | None, *, normal: bool = False) -> None:
        """Stop for good, with every child: their queued messages become dead letters."""
        self.status = "stopped"
        for child in reversed(self.children):
            child.finish(None)
        self.children.clear()
        self.system._unregister_supervisor(self)

    async def _live(
        self,
        incarnation: int,
        delay: float,
        first: bool,
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        error: BaseException | None = None
        start_failed: StartFailed | None = None
        try:
            with anyio.CancelScope() as self._scope:
                if self.stopping:
                    return
                if delay > 0:
                    await self.system.clock.sleep(delay)
                async with anyio.create_task_group() as tg:
                    try:
                        self._tg = tg
                        try:
                            for child in list(self.children):
                                if not first:
                                    child.restarts += 1
                                await child.start(tg, first=first)
                        except StartFailed as exc:
                            # Raised after the task group has closed, so that the caller of
                            # start() sees StartFailed itself rather than a group holding it.
                            start_failed = exc
                        else:
                            task_status.started()
                            if not self.stopping:
                                self.status = "running"
                                await self._supervise()
                    except SupervisorGaveUp as exc:
                        error = exc
                    finally:
                        self._tg = None
                        await self._stop_children()
        finally:
            self._scope = None
            self._ended.set()
            if start_failed is None:
                self.parent.child_exited(self, incarnation, error)
        if start_failed is not None:
            raise start_failed

    async def _stop_children(self) -> None:
        for child in reversed(self.children):
            await child.shutdown()

    # -- its own children ----------------------------------------------------------------------

    def child_exited(self, child: Member, incarnation: int, error: BaseException | None) -> None:
        self._post(_Exited(child, incarnation, error))

    async def add(self, spec: Child | Supervisor) -> Member:
        """Start a new child at the end of the start order; raises `StartFailed` if it fails."""
        tg = self._tg
        if tg is None or self.stopping:
            raise ActorStopped(f"supervisor {self.name} is not running", actor=self.name)
        child = self._make(spec)
        await self._start_last(child, tg)
        return child

    async def readd(self, cell: ActorCell) -> None:
        """Start a passivated actor again, at the end of the start order (J5)."""
        tg = self._tg
        if tg is None or self.stopping:
            raise ActorStopped(f"supervisor {self.name} is not running", actor=self.name)
        self.system._register(cell)
        cell.parent = self
        cell.recovered = True  # a failing start is this supervisor's to handle
        await self._start_last(cell, tg)

    async def _start_last(self, child: Member, tg: TaskGroup) -> None:
        """Start `child` at the end of the start order; if it does not start, let it go."""
        self.children.append(child)
        try:
            await child.start(tg, first=True)
        except BaseException as exc:
            if child in self.children:  # a stop of this supervisor let it go meanwhile
                self.children.remove(child)
            child.finish(None)
            if isinstance(exc, Exception) and (self.stopping or self._tg is not tg):
                # This supervisor stopped while the child was starting (or restoring): that
                # is why it did not start, whatever it raised (its task group had closed).
                raise ActorStopped(
                    f"{child.name} did not start: supervisor {self.name} stopped meanwhile",
                    actor=child.name,
                ) from exc
            raise

    async def stop_child(self, child: Member) -> None:
        """Stop `child` for good and wait until it has stopped."""
        if child.status == "stopped":
            return
        if self._loop_scope is None:
            await child.shutdown()
            return
        done = anyio.Event()
        self._post(_StopChild(child, done))
        await done.wait()

    def _post(self, event: _Exited | _StopChild) -> None:
        self._events.append(event)
        self._signal.set()

    async def _supervise(self) -> None:
        with anyio.CancelScope() as self._loop_scope:
            try:
                while True:
                    while not self._events:
                        self._signal = anyio.Event()
                        await self._signal.wait()
                    event = self._events.popleft()
                    if isinstance(event, _StopChild):
                        await self._stop_for_good(event.child)
                        event.done.set()
                    else:
                        await self._on_exit(event)
            finally:
                self._loop_scope = None
                # Whoever waits for a stop must not hang when the supervisor itself stops.
                for pending in self._events:
                    if isinstance(pending, _StopChild):
                        pending.done.set()
                self._events.clear()

    async def _stop_for_good(self, child: Member) -> None:
        if child not in self.children:
            return
        await child.shutdown()
        self.children.remove(child)
        child.finish(None)

    async def _on_exit(self, event: _Exited) -> None:
        child, error = event.child, event.error
        if event.incarnation != child.incarnation or child.stopping or child not in self.children:
            return  # a stop we asked for, or an incarnation already replaced
        if isinstance(child, ActorCell) and child.passivating and error is None:
            self.children.remove(child)  # unloaded while idle; back on its next message (J5)
            child.passivated()
            return
        if child.restart == "temporary" or (error is None and child.restart == "transient"):
            self.children.remove(child)
            child.finish(error, normal=error is None)
            return
        now = self.system.clock.now()
        self._check_intensity(child, error, now)
        delay = self._backoff(child, now)
        logger.info(
            "supervisor %s restarting %s (%s) in %.3f s after it %s; %d of %d restarts within %g s",
            self.name,
            child.name,
            self.spec.strategy,
            delay,
            "exited" if error is None else f"failed with {type(error).__name__}: {error}",
            len(self._restart_times),
            self.spec.max_restarts,
            self.spec.within,
        )
        if self.spec.strategy == "one_for_one":
            child.restarts += 1
            assert self._tg is not None
            child.start_soon(self._tg, delay)
            return
        index = self.children.index(child)
        group = self.children if self.spec.strategy == "one_for_all" else self.children[index:]
        await self._restart_group(list(group), child, delay)

    async def _restart_group(self, group: list[Member], failed: Member, delay: float) -> None:
        for sibling in reversed(group):
            if sibling is not failed:
                await sibling.shutdown()
        for sibling in group:
            if sibling.restart == "temporary" and sibling is not failed:
                self.children.remove(sibling)
                sibling.finish(None)
        if delay > 0:
            await self.system.clock.sleep(delay)
        assert self._tg is not None
        for sibling in group:
            if sibling in self.children:
                sibling.restarts += 1
                await sibling.start(self._tg, first=False)

    def _check_intensity(self, child: Member, error: BaseException | None, now: float) -> None:
        """Record a restart; past `max_restarts` within `within` seconds, give up (S4)."""
        times = self._restart_times
        while times and now - times[0] >= self.spec.within:
            times.popleft()
        if len(times) >= self.spec.max_restarts:
            what = "exited" if error is None else f"failed with {type(error).__name__}: {error}"
            gave_up = SupervisorGaveUp(
                f"supervisor {self.name} gave up: actor {child.name} {what}; more than"
                f" {self.spec.max_restarts} restarts within {self.spec.within:g} s",
                supervisor=self.name,
                actor=child.name,
            )
            logger.error("%s", gave_up)
            self.system._escalations += 1
            raise gave_up from error
        times.append(now)

    def _backoff(self, child: Member, now: float) -> float:
        """Seconds to wait before restarting `child`: the backoff of its streak of failures (S5)."""
        streak, last = self._streaks.get(id(child), (0, now))
        if now - last >= self.spec.healthy_after:
            streak = 0
        streak += 1
        self._streaks[id(child)] = (streak, now)
        state = tenacity.RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = streak
        return max(0.0, float(self.spec.backoff(state)))

    def __repr__(self) -> str:
        size = len(self.children)
        return f"<Supervisor {self.name} {self.spec.strategy} {self.status} children={size}>"
