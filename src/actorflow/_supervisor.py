"""The supervisor at run time: starts children in order, restarts them by strategy (S1-S6, S8).

Like an OTP supervisor it does one thing at a time: a child's exit is an event in its queue, and
restarting a group (one-for-all, rest-for-one) finishes before the next event is looked at. A
one-for-one restart's backoff sleeps inside the restarted child, so siblings are never held up.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Protocol, TypeAlias

import anyio
import tenacity
from anyio.abc import TaskGroup, TaskStatus

from ._cell import ActorCell, CannotStart
from ._errors import ActorStopped, StartFailed, SupervisorGaveUp
from ._lifecycle import (
    DOWN,
    PASSIVATING,
    RESTARTING,
    RUNNING,
    STARTING,
    STOPPED,
    STOPPING,
    Lifecycle,
)
from ._logs import FINAL
from ._runtime import Parent, Runtime
from ._spec import Child, Restart, Supervisor

__all__ = ["Member", "SupervisorCell", "Tree"]

logger = logging.getLogger("actorflow")

Member: TypeAlias = "ActorCell | SupervisorCell"


class Tree(Runtime, Protocol):
    """What a supervisor needs of its system beyond what its cells do."""

    def make_cell(self, spec: Child, parent: SupervisorCell) -> ActorCell:
        """A new cell for `spec` under `parent`, under its name (durable or not, J1)."""
        ...

    def register(self, cell: ActorCell) -> None:
        """Put a cell that comes back (J5) under its name again."""
        ...

    def register_supervisor(self, sup: SupervisorCell) -> None:
        """Put `sup` under its name; raises `ActorExists` if the name is taken."""
        ...

    def unregister_supervisor(self, sup: SupervisorCell) -> None:
        """Take `sup` off the registry (it stopped for good)."""
        ...

    def escalated(self) -> None:
        """Count a supervisor that gave up (O2)."""
        ...


@dataclass(frozen=True, slots=True)
class _Exited:
    child: Member
    incarnation: int
    error: BaseException | None


@dataclass(frozen=True, slots=True)
class _Remove:
    child: Member
    done: anyio.Event


class SupervisorCell(Lifecycle):
    """The runtime of one `Supervisor` spec (internal)."""

    def __init__(self, spec: Supervisor, tree: Tree, parent: Parent) -> None:
        super().__init__(spec.name)
        self.spec = spec
        self.tree = tree
        self.parent = parent
        self.restart: Restart = spec.restart
        self.exit_error: BaseException | None = None
        self.children: list[Member] = []
        self._restart_times: deque[float] = deque()
        self._streaks: dict[int, tuple[int, float]] = {}  # id(child) -> (restarts in a row, last)
        self._events: deque[_Exited | _Remove] = deque()
        self._signal = anyio.Event()
        self._scope: anyio.CancelScope | None = None
        self._loop_scope: anyio.CancelScope | None = None
        self._tg: TaskGroup | None = None
        tree.register_supervisor(self)
        try:
            for child_spec in spec.children:
                self.children.append(self._make(child_spec))
        except BaseException:
            self.close()
            raise

    def _make(self, spec: Child | Supervisor) -> Member:
        if isinstance(spec, Supervisor):
            return SupervisorCell(spec, self.tree, self)
        return self.tree.make_cell(spec, self)

    # -- as a child of its parent: start, shutdown, close ------------------------------------

    async def start(self, tg: TaskGroup, *, first: bool) -> None:
        incarnation = self._launch(0.0)
        await tg.start(self._live, incarnation, 0.0, first)

    def start_soon(self, tg: TaskGroup, delay: float) -> None:
        incarnation = self._launch(delay)
        tg.start_soon(self._live, incarnation, delay, False, name=f"supervisor {self.name}")

    def _launch(self, delay: float) -> int:
        self._restart_times.clear()  # a restarted supervisor starts with a clean slate (OTP)
        self._streaks.clear()
        self.exit_error = None
        return self.launch(delay)

    async def shutdown(self) -> None:
        """Stop every child in reverse start order, then end; works mid-restart too (S8).

        A stop asked for again meanwhile (the system stopped twice, a removal racing its
        parent's stop) waits for the first one to end.
        """
        if not self.alive:
            return
        if self.phase is STOPPING:
            await self.wait_ended()
            return
        self.enter(STOPPING)
        for scope in (self._loop_scope, self._scope if self._tg is None else None):
            if scope is not None:
                scope.cancel()
        await self.wait_ended()

    def close(self, error: BaseException | None = None, *, normal: bool = False) -> None:
        """Stop for good, with every child (each tells its watchers how it ended)."""
        if self.phase is STOPPED:
            return
        self.enter(STOPPED)
        for child in reversed(self.children):
            child.close()
        self.children.clear()
        self.tree.unregister_supervisor(self)

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
                if self.phase is STOPPING:
                    return  # stopped before it began
                if delay > 0:
                    await self.tree.clock.sleep(delay)
                    if self.phase is STOPPING:
                        return  # stopped as its backoff ended (the cancellation came late)
                    self.enter(STARTING)
                async with anyio.create_task_group() as tg:
                    try:
                        self._tg = tg
                        start_failed = await self._start_children(tg, first)
                        if start_failed is None:
                            task_status.started()
                            if self.phase is STARTING:
                                self.enter(RUNNING)
                                await self._supervise()
                    except SupervisorGaveUp as exc:
                        error = exc
                    finally:
                        self._tg = None
                        await self._stop_children()
        finally:
            self._scope = None
            self.exit_error = error
            self.ended()
            if start_failed is None:
                self.parent.child_exited(self, incarnation, error)
        if start_failed is not None:
            raise start_failed

    async def _start_children(self, tg: TaskGroup, first: bool) -> StartFailed | None:
        """Start every child in order; a first start's `StartFailed` is returned, to be raised
        after the task group has closed (so that the caller sees it, not a group holding it)."""
        try:
            for child in list(self.children):
                if not first:
                    child.restarts += 1
                try:
                    await child.start(tg, first=first)
                except CannotStart as exc:
                    self._let_go(child, exc)
        except StartFailed as exc:
            return exc
        return None

    def _let_go(self, child: Member, reason: CannotStart) -> None:
        """`child` cannot start, and restarting cannot help: it stays out, the rest runs."""
        logger.log(reason.level, "%s", reason)
        if child in self.children:
            self.children.remove(child)
        child.close()

    async def _stop_children(self) -> None:
        """Stop every child, last started first (S8), each once.

        It walks a copy of the list: a start still in flight (an actor coming back as shares
        move, C3) stops its own child when it sees this supervisor stopping, and takes it off
        `children` (`_start_last`). An iterator over the list itself ends as soon as the list
        is shorter than its position, so the children before those were never stopped and
        this supervisor's task group waited on them for ever. No child joins after the copy:
        `_tg` is None by now, and `add` and `readd` refuse.
        """
        for child in list(reversed(self.children)):
            await child.shutdown()

    # -- its own children ----------------------------------------------------------------------

    def child_exited(self, child: Member, incarnation: int, error: BaseException | None) -> None:
        self._post(_Exited(child, incarnation, error))

    async def add(self, spec: Child | Supervisor) -> Member:
        """Start a new child at the end of the start order; raises `StartFailed` if it fails."""
        tg = self._running_group()
        child = self._make(spec)
        await self._start_last(child, tg)
        return child

    async def readd(self, cell: ActorCell) -> None:
        """Start an actor that left memory again, at the end of the start order (J5)."""
        tg = self._running_group()
        self.tree.register(cell)
        cell.parent = self
        await self._start_last(cell, tg)

    def _running_group(self) -> TaskGroup:
        tg = self._tg
        if tg is None or self.phase is not RUNNING:
            raise ActorStopped(f"supervisor {self.name} is not running", actor=self.name)
        return tg

    async def _start_last(self, child: Member, tg: TaskGroup) -> None:
        """Start `child` at the end of the start order; if it does not start, let it go."""
        self.children.append(child)
        try:
            await child.start(tg, first=True)
            if self.phase is not RUNNING or self._tg is not tg:
                # This supervisor stopped its children while this one was starting (a durable
                # actor restoring from its journal): it stops too, or the group never ends.
                await child.shutdown()
                raise ActorStopped(
                    f"{child.name} did not start: supervisor {self.name} stopped meanwhile",
                    actor=child.name,
                )
        except CannotStart as exc:
            self._let_go(child, exc)
            raise StartFailed(str(exc)) from exc.__cause__
        except BaseException as exc:
            if child in self.children:  # a stop of this supervisor let it go meanwhile
                self.children.remove(child)
            child.close()
            if isinstance(exc, Exception) and (self.phase is not RUNNING or self._tg is not tg):
                # This supervisor stopped while the child was starting (or restoring): that
                # is why it did not start, whatever it raised (its task group had closed).
                raise ActorStopped(
                    f"{child.name} did not start: supervisor {self.name} stopped meanwhile",
                    actor=child.name,
                ) from exc
            raise

    async def remove(self, child: Member) -> None:
        """Stop `child` for good and wait until it has stopped."""
        if child.phase is STOPPED:
            return
        if self._loop_scope is None:
            await child.shutdown()
            return
        done = anyio.Event()
        self._post(_Remove(child, done))
        await done.wait()
        # Had this supervisor stopped before the removal was done, its stop stops the child.
        await child.wait_ended()

    def _post(self, event: _Exited | _Remove) -> None:
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
                    if isinstance(event, _Remove):
                        try:
                            await self._remove_now(event.child)
                        finally:
                            event.done.set()  # also if this supervisor stops meanwhile
                    else:
                        await self._on_exit(event)
            finally:
                self._loop_scope = None
                # Whoever waits for a removal must not hang when the supervisor itself stops.
                for pending in self._events:
                    if isinstance(pending, _Remove):
                        pending.done.set()
                self._events.clear()

    async def _remove_now(self, child: Member) -> None:
        if child not in self.children:
            return
        await child.shutdown()
        self.children.remove(child)
        child.close()

    async def _on_exit(self, event: _Exited) -> None:
        child, error = event.child, event.error
        if event.incarnation != child.incarnation or child not in self.children:
            return  # an incarnation already replaced, or a child let go
        if child.phase is PASSIVATING and error is None:
            self.children.remove(child)  # unloaded while idle; back on its next message (J5)
            child.passivated()
            return
        if child.phase is not DOWN:
            return  # a stop we asked for
        if child.restart == "temporary" or (error is None and child.restart == "transient"):
            self.children.remove(child)
            child.close(error, normal=error is None)
            return
        now = self.tree.clock.now()
        self._check_intensity(child, error, now)
        delay = self._backoff(child, now)
        logger.info(
            "supervisor %s restarting %s (%s) in %.3f s after it %s; %d of %d restarts within %g s",
            self.name,
            child.name,
            self.spec.strategy,
            delay,
            _how(error),
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
                sibling.close()
            elif sibling.phase is not STOPPED:
                sibling.enter(RESTARTING)  # the whole group waits out the backoff (S9)
        if delay > 0:
            await self.tree.clock.sleep(delay)
        assert self._tg is not None
        for sibling in group:
            if sibling in self.children:
                sibling.restarts += 1
                await sibling.start(self._tg, first=False)

    def passivated(self) -> None:
        """Supervisors are never unloaded; only durable actors are (J5)."""
        raise AssertionError(f"supervisor {self.name} cannot be passivated")

    def _check_intensity(self, child: Member, error: BaseException | None, now: float) -> None:
        """Record a restart; past `max_restarts` within `within` seconds, give up (S4)."""
        times = self._restart_times
        while times and now - times[0] >= self.spec.within:
            times.popleft()
        if len(times) >= self.spec.max_restarts:
            gave_up = SupervisorGaveUp(
                f"supervisor {self.name} gave up: {_who(child)} {_how(error)}; more than"
                f" {self.spec.max_restarts} restarts within {self.spec.within:g} s",
                supervisor=self.name,
                actor=child.name,
            )
            # The root's give-up is why the system ends: a process log writes it last.
            final = not isinstance(self.parent, SupervisorCell)
            logger.error("%s", gave_up, extra={FINAL: final})
            self.tree.escalated()
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


def _who(child: Member) -> str:
    return (
        f"supervisor {child.name}" if isinstance(child, SupervisorCell) else f"actor {child.name}"
    )


def _how(error: BaseException | None) -> str:
    """How a child ended, in a few words; a child supervisor's give-up is not repeated."""
    if error is None:
        return "exited"
    if isinstance(error, SupervisorGaveUp):
        cause = error.__cause__
        while isinstance(cause, SupervisorGaveUp):
            cause = cause.__cause__
        return f"gave up after actor {error.actor} {_how(cause)}"
    return f"failed with {type(error).__name__}: {error}"
