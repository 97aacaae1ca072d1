"""`ActorSystem`: the composition root: wires the services, the root supervisor, the journal."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, TypeVar, final

import anyio
from anyio.abc import TaskStatus

from . import _tracing
from ._cell import ActorCell
from ._clock import Clock, LoopClock
from ._deadletter import DeadLetter
from ._deadlines import Deadlines
from ._errors import ActorflowError, ActorNotFound
from ._handlers import Behaviour
from ._message import Message
from ._names import normal_name
from ._ref import ActorRef, cell_of
from ._resources import Resources
from ._services import Services, SystemStatistics
from ._spec import DEFAULT_MAILBOX_SIZE, Child, Restart, Supervisor
from ._supervisor import SupervisorCell
from ._timers import When
from .durable import Durability, JournaledCell, JournalStatistics, TimerSink
from .journal import Compacted, ConversationNode, JournalBackend, backend_for, is_postgres_url

__all__ = ["ActorSystem", "SystemStatistics"]

A = TypeVar("A", bound=Behaviour)
T = TypeVar("T")

logger = logging.getLogger("actorflow")


def _is_backend(value: object) -> bool:
    return all(hasattr(value, name) for name in ("open", "close", "write", "pending"))


@final
class ActorSystem:
    """Runs actors under a root supervisor; use it as an async context manager.

    With a `journal` (a SQLite file's path, a ``postgresql://`` URL, or a backend such as
    ``journal.SQLiteJournal``), named actors are durable: their messages and state persist and
    are recovered when a system starts on the same journal (J1, J5).

    ``async with ActorSystem() as system:`` starts the root supervisor (a one-for-one
    `Supervisor` named "root" unless `root` says otherwise); leaving the block stops every actor
    in reverse start order (S8). If the root supervisor gives up (S4), the block is cancelled and
    `SupervisorGaveUp` is raised from it.

    `dead_letter_limit` bounds how many dead letters are kept in memory (a failed message is
    logged with its traceback, the messages of a stopped actor in one summary line); `clock`
    replaces the event loop's clock (``actorflow.testing.FakeClock`` in tests).

    `retention` (seconds or a `timedelta`) compacts done messages older than that from the
    journal as the system runs (J10). Over a ``postgresql://`` journal the system is a node
    among the systems sharing the database (C2): `node` is its name (default
    ``{hostname}-{pid}``); it runs only the durable actors it owns.

    `tracing` makes a span per handled message (O1): by
    default when OpenTelemetry is installed and the application has set a tracer provider;
    True or False to force it; or a ``TracerProvider`` to use instead of the global one.

    `record_turns` (default True) keeps, with each handled durable message, the actor's state
    before and after it and an ask's reply, so that its conversation can be replayed (R2,
    ``actorflow.replay``); False saves that write (about a sixth of a done-mark's cost in the
    journal's writer here), and conversations handled so cannot be replayed.
    """

    def __init__(
        self,
        *,
        journal: str | os.PathLike[str] | JournalBackend | None = None,
        root: Supervisor | None = None,
        clock: Clock | None = None,
        dead_letter_limit: int = 10_000,
        retention: float | dt.timedelta | None = None,
        tracing: Any = None,
        record_turns: bool = True,
        node: str | None = None,
    ) -> None:
        if node is not None and not is_postgres_url(journal):
            raise ValueError(
                "node= names this system among the nodes of a postgresql:// journal (C2);"
                f" {journal!r} is not one (for a PostgresJournal, pass node= to it)"
            )
        if journal is None or _is_backend(journal):
            self._backend: JournalBackend | None = journal  # type: ignore[assignment]
        else:
            self._backend = backend_for(journal, node=node)  # type: ignore[arg-type]
        self.clock: Clock = clock if clock is not None else LoopClock()
        self._services = Services(self, self.clock, dead_letter_limit)
        self._root_spec = root if root is not None else Supervisor(name="root")
        self._stack: contextlib.AsyncExitStack | None = None
        self._stop_scope: anyio.CancelScope | None = None
        self._chores: anyio.CancelScope | None = None
        seconds = retention.total_seconds() if isinstance(retention, dt.timedelta) else retention
        if seconds is not None and not seconds > 0:
            raise ValueError(f"retention must be a positive duration, not {retention!r}")
        self._retention = seconds
        if tracing and not _tracing.available():
            raise ActorflowError(
                "tracing=True needs OpenTelemetry's API: pip install 'actorflow[otel]'"
            )
        self._tracing_option = tracing
        self._record_turns = record_turns
        self._resources = Resources()

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> ActorSystem:
        services = self._services
        if services.state != "new":
            raise ActorflowError("an ActorSystem can be started only once")
        services.state = "running"
        services.tracer = _tracing.tracer_for(self._tracing_option)
        _tracing.active += services.tracer is not None
        self._stop_scope = anyio.CancelScope()
        services.deadlines = Deadlines(asyncio.get_running_loop())
        failure: BaseException | None = None
        try:
            async with contextlib.AsyncExitStack() as stack:
                await self._start(stack)
                self._stack = stack.pop_all()
        except BaseExceptionGroup as group:
            if len(group.exceptions) != 1:
                raise
            failure = group.exceptions[0]
        if failure is not None:
            services.state = "stopped"
            _tracing.active -= services.tracer is not None
            raise failure  # StartFailed (or a bad spec) as itself, not inside a group
        logger.info(
            "actor system running: %d actor(s)%s",
            len(services.cells),
            "" if self._backend is None else f", journal {self._backend!r}",
        )
        return self

    async def _start(self, stack: contextlib.AsyncExitStack) -> None:
        """Open the journal, start the root supervisor and what it recovers, then the chores."""
        services = self._services
        tg = services.tg = await stack.enter_async_context(anyio.create_task_group())
        durability = None
        if self._backend is not None:
            timers = services.timers
            durability = Durability(
                self._backend,
                services,
                TimerSink(timers.arm, timers.committed),
                record_turns=self._record_turns,
            )
            await durability.open(tg)
            services.durability = timers.durability = durability
            stack.push_async_callback(durability.close)
        self._resources.start(tg)  # before the root: on_start and recovered turns may use them
        root = services.root = SupervisorCell(self._root_spec, services, services)
        if durability is not None:
            durability.recovery.adopt(root)
        await root.start(tg, first=True)
        if durability is not None:
            durability.recovery.started()
        # After the recovered actors are back: a timer due while the system was down fires as
        # soon as its actor can take it.
        await tg.start(self._run_chores)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._stack is not None
        # A system that failed (its root gave up, a handler raised SystemExit) has had its task
        # group cancelled, this block with it: its actors still stop in order (S8, S9).
        shield = self._services.failure is not None
        try:
            assert self._stop_scope is not None
            with anyio.CancelScope(shield=shield), self._stop_scope:
                await self.stop()
        finally:
            try:
                suppress = await self._stack.__aexit__(exc_type, exc, tb)
            except BaseExceptionGroup as group:
                # The runtime's own tasks never raise, so a group holds only what the block
                # raised: let that propagate as itself rather than wrapped.
                if exc is None or group.exceptions != (exc,):
                    raise
                suppress = False
        if self._services.failure is not None:
            raise self._services.failure
        return suppress

    async def stop(self) -> None:
        """Stop every actor in reverse start order and wait until all have stopped (S8).

        With a journal, the writer then commits what is queued and the journal closes; messages
        not handled yet stay pending in it.
        """
        services = self._services
        if services.state == "stopped":
            return
        if services.state == "running":
            services.state = "stopping"
        if self._chores is not None:
            self._chores.cancel()  # durable timers wait in the journal for the next start
        root = services.root
        if root is not None:
            await root.shutdown()
            root.close()
        await self._resources.close()  # after the actors, whose on_stop may still use them
        durability = services.durability
        if durability is not None:
            durability.stop()
            await durability.close()
        if services.state != "stopped":
            _tracing.active -= services.tracer is not None
        services.state = "stopped"

    def kill(self) -> None:
        """Stop at once: cancel every actor where it is, without waiting for its message.

        ``on_stop`` hooks still run (shielded, within their timeouts). For a second SIGINT.
        """
        if self._stop_scope is not None:
            self._stop_scope.cancel()
        if self._services.tg is not None:
            self._services.tg.cancel_scope.cancel()

    async def _run_chores(self, *, task_status: TaskStatus[None]) -> None:
        """The system's own tasks: timers, outside messages, retention; cancelled on stop."""
        services = self._services
        with anyio.CancelScope() as self._chores:
            async with anyio.create_task_group() as tg:
                await tg.start(services.timers.run)
                if services.durability is not None:
                    services.durability.run_chores(tg, self.clock, self._retention)
                task_status.started()

    # -- resources and tracing (for integrations such as actorflow.mcp) -------------------------

    async def resource(
        self, key: Hashable, open: Callable[[], AbstractAsyncContextManager[T]]
    ) -> T:
        """The system's one instance of an outside resource (a connection pool, a client).

        The first call for `key` enters ``open()`` in a task of the system's own and returns
        its value once entered; later calls return the same value (waiting while it opens).
        It is exited when the system stops, after every actor has stopped, so ``on_stop`` may
        still use it. Integrations keep their per-process connections this way
        (``actorflow.mcp``). Raises what opening raised (the next call tries again), or
        `ActorflowError` when the system is not running.
        """
        return await self._resources.get(key, open)

    @property
    def tracer(self) -> Any:
        """The OpenTelemetry tracer this system's spans come from, or None when it does not
        trace (O1); integrations make their spans with it."""
        return self._services.tracer

    # -- timers, conversations, retention ------------------------------------------------------

    async def schedule(self, when: When, message: Message, *, to: ActorRef[Any]) -> str:
        """Send `message` to `to` later (J6); returns the timer's id, for `cancel_timer`.

        `when` is seconds or a `timedelta` from now, or a `datetime`. To a durable actor the
        timer is stored in the journal first: it fires once, also after restarts, late rather
        than never. To an in-memory actor it lives as long as the system. Inside a durable
        actor's handler it is stored with that handler's commit (J3).
        """
        target = cell_of(to)
        assert isinstance(target, ActorCell)
        return await self._services.timers.schedule(when, message, target, None)

    async def cancel_timer(self, timer_id: str) -> None:
        """Cancel a timer that has not fired; a timer that fired already is left alone."""
        await self._services.timers.cancel(timer_id)

    async def conversation(self, id: str) -> list[ConversationNode]:
        """The conversation `id` names (a conversation id, or any of its messages' ids) as
        trees of causing and caused messages, roots first (J7). Needs a journal."""
        return await self._journal().conversation(id)

    async def compact(self, before: dt.datetime | dt.timedelta | float) -> Compacted:
        """Delete done and cancelled messages older than `before`, and their steps (J10).

        `before` is a `datetime`, a `timedelta` (that long ago) or a Unix time. Actors'
        states, pending and dead messages, timers and the steps of messages that may still run
        are kept; safe while actors run. Message ids compacted away no longer deduplicate
        ``tell(id=...)``.
        """
        if isinstance(before, dt.timedelta):
            cutoff = time.time() - before.total_seconds()
        elif isinstance(before, dt.datetime):
            cutoff = before.timestamp()
        else:
            cutoff = float(before)
        return await self._journal().compact(cutoff)

    def _journal(self) -> Durability:
        durability = self._services.durability
        if durability is None or not durability.is_open:
            raise ActorflowError("this system has no journal open (pass journal= to ActorSystem)")
        return durability

    def journal_statistics(self) -> JournalStatistics | None:
        """The journal writer's counters (commits, batch sizes, latency), or None (O2)."""
        durability = self._services.durability
        return None if durability is None or not durability.is_open else durability.statistics()

    # -- actors ----------------------------------------------------------------------------------

    async def spawn(
        self,
        actor_class: type[A],
        /,
        *args: Any,
        name: str | None = None,
        supervisor: str | None = None,
        restart: Restart = "permanent",
        mailbox_size: int = DEFAULT_MAILBOX_SIZE,
        max_attempts: int = 3,
        shutdown_timeout: float = 5.0,
        ephemeral: bool = False,
        passivate_after: float | None = None,
    ) -> ActorRef[A]:
        """Start an actor and return its reference once its ``on_start`` has returned.

        `args` go to the actor's constructor, on every (re)start. The actor joins the end of
        `supervisor`'s children (the root's by default). Options: `restart` type (S3),
        `mailbox_size` (A2, default 1000), `max_attempts` per message before it becomes a dead
        letter (S7), `shutdown_timeout` (S8).

        With a journal, a named actor is durable (J1) unless `ephemeral`: its state and
        messages persist, and spawning a durable actor that is already running (recovered from
        the journal, or spawned before) with the same class returns its reference. With
        `passivate_after`, a durable actor idle for that many seconds is unloaded from memory
        (``on_stop`` runs) and comes back from its journal state on its next message, for
        senders as if it had never left (J5); spawning it again brings it back too.

        Raises `ActorExists` if the name is taken, `StartFailed` if the constructor or
        ``on_start`` raised (nothing stays registered), `DefinitionError` for bad options.
        """
        durability = self._services.durability
        if name is not None:
            name = normal_name(name)  # one spelling of a name everywhere (NFC)
        if name is not None and durability is not None:
            existing = await durability.running(name, actor_class)
            if existing is not None:
                return existing.ref
        spec = Child(
            actor_class,
            *args,
            name=name,
            restart=restart,
            mailbox_size=mailbox_size,
            max_attempts=max_attempts,
            shutdown_timeout=shutdown_timeout,
            ephemeral=ephemeral,
            passivate_after=passivate_after,
        )
        if name is not None and durability is not None and not ephemeral:
            # Owned by another node (C2): registered for it, told through the journal (C4).
            remote = await durability.spawn_elsewhere(spec, supervisor)
            if remote is not None:
                return remote.ref
        cell = await self._services.supervisor(supervisor).add(spec)
        assert isinstance(cell, ActorCell)
        return cell.ref

    async def start(self, spec: Supervisor, *, supervisor: str | None = None) -> None:
        """Start a supervisor and its children under `supervisor` (the root by default)."""
        await self._services.supervisor(supervisor).add(spec)

    def lookup(self, name: str) -> ActorRef[Any]:
        """Return the reference of the live actor called `name`; raises `ActorNotFound`.

        A passivated durable actor is live: its reference brings it back with its next
        message (J5). Over a journal shared by several nodes (C2), a durable actor another
        node owns has a reference too: a tell through it is committed here and handled there
        (C4); so has one this node owns and does not run (its shard just taken over, C3, or
        left passivated in the journal): the first message through it brings it back here.
        """
        cell = self._services.find(name)
        if cell is not None:
            return cell.ref
        durability = self._services.durability
        if durability is None:
            raise ActorNotFound(f"no live actor is called {name!r}")
        normal = normal_name(name)
        unloaded = durability.unloaded(normal)
        if unloaded is not None:
            return unloaded.ref
        kind = durability.kind_of(normal)
        if kind is not None:
            raise ActorNotFound(
                f"no live actor is called {name!r}; the journal holds a durable actor of that"
                f" name (kind {kind!r}), which comes back when spawned by name"
            )
        raise ActorNotFound(f"no live actor is called {name!r}")

    def actors(self) -> list[ActorRef[Any]]:
        """Return the references of every live actor."""
        return [cell.ref for cell in self._services.cells.values()]

    async def stop_supervisor(self, name: str) -> None:
        """Stop a supervisor and all its children for good."""
        sup = self._services.supervisor(name)
        if not isinstance(sup.parent, SupervisorCell):
            raise ActorflowError("the root supervisor stops with the system: use stop()")
        await sup.parent.remove(sup)

    # -- dead letters ----------------------------------------------------------------------------

    @property
    def dead_letters(self) -> Sequence[DeadLetter]:
        """The most recent dead letters, oldest first (at most `dead_letter_limit`)."""
        return tuple(self._services.letters)

    @property
    def dead_letter_count(self) -> int:
        """How many dead letters there have been since the system started."""
        return self._services.dead_letter_count

    async def requeue(self, letter: DeadLetter) -> None:
        """Send a dead letter's message again to the live actor of its name (S7).

        A journaled dead letter becomes pending again under its own id, attempts reset.
        """
        ref = self.lookup(letter.actor)
        cell = cell_of(ref)
        if letter.id is not None and isinstance(cell, JournaledCell):
            await self._journal().requeue(cell, letter.message, letter.id)
        else:
            await ref.tell(letter.message)
        with contextlib.suppress(ValueError):
            self._services.letters.remove(letter)

    # -- observation -----------------------------------------------------------------------------

    async def wait_idle(self) -> None:
        """Wait until every actor has an empty mailbox and waits for more."""
        await self._services.wait_idle()

    def statistics(self) -> SystemStatistics:
        """Return a snapshot of the system's counters, including actors that have stopped (O2)."""
        return self._services.statistics()

    def __repr__(self) -> str:
        services = self._services
        return (
            f"<ActorSystem {services.state} actors={len(services.cells)}"
            f" dead_letters={services.dead_letter_count}>"
        )
