"""`ActorSystem`: owns the task group, the root supervisor, the name registry, dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar, final

import anyio
from anyio.abc import TaskGroup, TaskStatus

from . import _tracing
from ._actor import Actor
from ._cell import ActorCell
from ._clock import Clock, LoopClock
from ._deadletter import DeadLetter
from ._deadlines import Deadlines
from ._envelope import Envelope
from ._errors import (
    ActorExists,
    ActorflowError,
    ActorNotFound,
    ActorStopped,
    JournalError,
    SupervisorGaveUp,
)
from ._message import Message
from ._outside import watch_notices
from ._recovery import Recovery
from ._ref import ActorRef
from ._spec import DEFAULT_MAILBOX_SIZE, Child, Restart, Supervisor
from ._supervisor import Member, SupervisorCell
from ._timers import Timers, When
from ._writer import JournalStatistics, Writer
from .journal import (
    Compacted,
    ConversationNode,
    JournalBackend,
    SQLiteJournal,
    conversation_tree,
)

__all__ = ["ActorSystem", "SystemStatistics"]

A = TypeVar("A", bound=Actor[Any])
T = TypeVar("T")

logger = logging.getLogger("actorflow")


async def _chore(fn: Callable[[T], Coroutine[Any, Any, None]], arg: T) -> None:
    try:
        await fn(arg)
    except ActorStopped:
        pass  # its recipient stopped meanwhile: a durable one keeps it in the journal
    except Exception:
        logger.exception("a background delivery failed")


def _is_backend(value: object) -> bool:
    return all(hasattr(value, name) for name in ("open", "close", "write", "pending"))


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
class _Totals:
    handled: int = 0
    failed: int = 0
    restarts: int = 0


@final
class ActorSystem:
    """Runs actors under a root supervisor; use it as an async context manager.

    With a `journal` (a path, or a backend such as ``journal.SQLiteJournal``), named actors are
    durable: their messages and state persist and are recovered when a system starts on the
    same journal (J1, J5).

    ``async with ActorSystem() as system:`` starts the root supervisor (a one-for-one
    `Supervisor` named "root" unless `root` says otherwise); leaving the block stops every actor
    in reverse start order (S8). If the root supervisor gives up (S4), the block is cancelled and
    `SupervisorGaveUp` is raised from it.

    `dead_letter_limit` bounds how many dead letters are kept in memory (a failed message is
    logged with its traceback, the messages of a stopped actor in one summary line); `clock`
    replaces the event loop's clock (``actorflow.testing.FakeClock`` in tests).

    `retention` (seconds or a `timedelta`) compacts done messages older than that from the
    journal as the system runs (J10). `tracing` makes a span per handled message (O1): by
    default when OpenTelemetry is installed and the application has set a tracer provider;
    True or False to force it; or a ``TracerProvider`` to use instead of the global one.
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
    ) -> None:
        if journal is None or _is_backend(journal):
            self._backend: JournalBackend | None = journal  # type: ignore[assignment]
        else:
            self._backend = SQLiteJournal(journal)  # type: ignore[arg-type]
        self._writer: Writer | None = None
        self._writer_done: anyio.Event | None = None
        self._recovery = Recovery(self)
        self.clock: Clock = clock if clock is not None else LoopClock()
        self._root_spec = root if root is not None else Supervisor(name="root")
        self._cells: dict[str, ActorCell] = {}
        self._supervisors: dict[str, SupervisorCell] = {}
        self._dead_letters: deque[DeadLetter] = deque(maxlen=dead_letter_limit)
        self._dead_letter_count = 0
        self._escalations = 0
        self._retired = _Totals()  # counters of actors that stopped for good
        self._anonymous = itertools.count(1)
        self._root: SupervisorCell | None = None
        self._tg: TaskGroup | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._failure: SupervisorGaveUp | None = None
        self._state = "new"
        self._stop_scope: anyio.CancelScope | None = None
        self._timers = Timers(self)
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
        self._tracer: Any = None  # decided when the system starts (O1)
        self._tracing = False

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> ActorSystem:
        if self._state != "new":
            raise ActorflowError("an ActorSystem can be started only once")
        self._state = "running"
        self._tracer = _tracing.tracer_for(self._tracing_option)
        self._tracing = self._tracer is not None
        _tracing.active += self._tracing
        self._stop_scope = anyio.CancelScope()
        self._deadlines = Deadlines(asyncio.get_running_loop())
        failure: BaseException | None = None
        try:
            async with contextlib.AsyncExitStack() as stack:
                self._tg = await stack.enter_async_context(anyio.create_task_group())
                if self._backend is not None:
                    await self._open_journal(self._tg)
                    stack.push_async_callback(self._close_journal)
                self._root = SupervisorCell(self._root_spec, self, self)
                self._recovery.adopt(self._root)
                await self._root.start(self._tg, first=True)
                self._recovery.started()
                # After the recovered actors are back: a timer due while the system was down
                # fires as soon as its actor can take it.
                await self._tg.start(self._run_chores)
                self._stack = stack.pop_all()
        except BaseExceptionGroup as group:
            if len(group.exceptions) != 1:
                raise
            failure = group.exceptions[0]
        if failure is not None:
            self._state = "stopped"
            _tracing.active -= self._tracing
            raise failure  # StartFailed (or a bad spec) as itself, not inside a group
        logger.info(
            "actor system running: %d actor(s)%s",
            len(self._cells),
            "" if self._backend is None else f", journal {self._backend!r}",
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._stack is not None
        try:
            assert self._stop_scope is not None
            with self._stop_scope:
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
        if self._failure is not None:
            raise self._failure
        return suppress

    async def stop(self) -> None:
        """Stop every actor in reverse start order and wait until all have stopped (S8).

        With a journal, the writer then commits what is queued and the journal closes; messages
        not handled yet stay pending in it.
        """
        if self._state == "stopped":
            return
        self._state = "stopping"
        if self._chores is not None:
            self._chores.cancel()  # durable timers wait in the journal for the next start
        root = self._root
        if root is not None:
            await root.shutdown()
            root.finish(None)
        self._recovery.stop()
        await self._close_journal()
        if self._state != "stopped":
            _tracing.active -= self._tracing
        self._state = "stopped"

    # -- the journal -----------------------------------------------------------------------------

    async def _open_journal(self, tg: TaskGroup) -> None:
        assert self._backend is not None
        await self._backend.open()
        try:
            await self._start_journal(tg)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._close_journal()
                await self._backend.close()
            raise

    async def _start_journal(self, tg: TaskGroup) -> None:
        assert self._backend is not None
        writer = self._writer = Writer(self._backend)
        self._writer_done = anyio.Event()
        done = self._writer_done

        async def run_writer(*, task_status: TaskStatus[None]) -> None:
            try:
                await writer.run(task_status=task_status)
            finally:
                done.set()

        await tg.start(run_writer)
        await self._recovery.load(self._backend)

    async def _run_chores(self, *, task_status: TaskStatus[None]) -> None:
        """The system's own tasks: timers, outside messages, retention; cancelled on stop."""
        with anyio.CancelScope() as self._chores:
            async with anyio.create_task_group() as tg:
                await tg.start(self._timers.run)
                if self._writer is not None:
                    tg.start_soon(watch_notices, self)
                    if self._retention is not None:
                        tg.start_soon(self._retain, self._retention)
                task_status.started()

    async def _retain(self, seconds: float) -> None:
        """Compact what is older than the retention period, every tenth of it (J10)."""
        every = min(max(seconds / 10, 1.0), 3600.0)
        while True:
            try:
                await self.compact(dt.timedelta(seconds=seconds))
            except JournalError as exc:
                logger.warning("automatic compaction failed, will try again: %s", exc)
            await self.clock.sleep(every)

    async def _close_journal(self) -> None:
        writer, backend = self._writer, self._backend
        if writer is None or backend is None:
            return
        self._writer = None
        writer.close()
        # Shielded: also when the system is torn down by a cancellation (the root gave up, a
        # second signal), what is queued is committed or failed and the files are closed.
        with anyio.CancelScope(shield=True):
            if self._writer_done is not None:
                with anyio.move_on_after(30):
                    await self._writer_done.wait()
            await backend.close()

    # -- timers, conversations, retention ------------------------------------------------------

    async def schedule(self, when: When, message: Message, *, to: ActorRef[Any]) -> str:
        """Send `message` to `to` later (J6); returns the timer's id, for `cancel_timer`.

        `when` is seconds or a `timedelta` from now, or a `datetime`. To a durable actor the
        timer is stored in the journal first: it fires once, also after restarts, late rather
        than never. To an in-memory actor it lives as long as the system.
        """
        return await self._timers.schedule(when, message, to._cell, None)

    async def cancel_timer(self, timer_id: str) -> None:
        """Cancel a timer that has not fired; a timer that fired already is left alone."""
        await self._timers.cancel(timer_id, None)

    async def conversation(self, id: str) -> list[ConversationNode]:
        """The conversation `id` names (a conversation id, or any of its messages' ids) as
        trees of causing and caused messages, roots first (J7). Needs a journal."""
        backend = self._journal_backend()
        records = await backend.conversation(id)
        if not records:
            found = await backend.message(id)
            if found is not None and found.conversation is not None:
                records = await backend.conversation(found.conversation)
        return conversation_tree(records)

    async def compact(self, before: dt.datetime | dt.timedelta | float) -> Compacted:
        """Delete done messages older than `before` and the steps they recorded (J10).

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
        result = await self._journal_backend().compact(cutoff)
        if result.messages or result.steps:
            logger.info(
                "compacted the journal: %d done message(s) and %d step result(s) before %s",
                result.messages,
                result.steps,
                dt.datetime.fromtimestamp(cutoff).isoformat(timespec="seconds"),
            )
        return result

    def _journal_backend(self) -> JournalBackend:
        if self._backend is None or self._writer is None:
            raise ActorflowError("this system has no journal open (pass journal= to ActorSystem)")
        return self._backend

    def journal_statistics(self) -> JournalStatistics | None:
        """The journal writer's counters (commits, batch sizes, latency), or None (O2)."""
        return None if self._writer is None else self._writer.statistics()

    def kill(self) -> None:
        """Stop at once: cancel every actor where it is, without waiting for its message.

        ``on_stop`` hooks still run (shielded, within their timeouts). For a second SIGINT.
        """
        if self._stop_scope is not None:
            self._stop_scope.cancel()
        if self._tg is not None:
            self._tg.cancel_scope.cancel()

    def child_exited(self, child: Member, incarnation: int, error: BaseException | None) -> None:
        """The root supervisor ended: on a failure (it gave up), the whole system stops."""
        if error is None or self._state != "running":
            return
        self._failure = (
            error
            if isinstance(error, SupervisorGaveUp)
            else SupervisorGaveUp(str(error), supervisor=child.name, actor=child.name)
        )
        self._state = "failed"
        assert self._tg is not None
        self._tg.cancel_scope.cancel()

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
        existing = None if name is None else await self._recovery.running(name, actor_class)
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
        cell = await self._supervisor(supervisor).add(spec)
        assert isinstance(cell, ActorCell)
        return cell.ref

    async def start(self, spec: Supervisor, *, supervisor: str | None = None) -> None:
        """Start a supervisor and its children under `supervisor` (the root by default)."""
        await self._supervisor(supervisor).add(spec)

    def lookup(self, name: str) -> ActorRef[Any]:
        """Return the reference of the live actor called `name`; raises `ActorNotFound`."""
        cell = self._cells.get(name)
        if cell is None:
            raise ActorNotFound(f"no live actor is called {name!r}")
        return cell.ref

    def actors(self) -> list[ActorRef[Any]]:
        """Return the references of every live actor."""
        return [cell.ref for cell in self._cells.values()]

    async def stop_supervisor(self, name: str) -> None:
        """Stop a supervisor and all its children for good."""
        sup = self._supervisor(name)
        if not isinstance(sup.parent, SupervisorCell):
            raise ActorflowError("the root supervisor stops with the system: use stop()")
        await sup.parent.stop_child(sup)

    # -- dead letters ----------------------------------------------------------------------------

    @property
    def dead_letters(self) -> Sequence[DeadLetter]:
        """The most recent dead letters, oldest first (at most `dead_letter_limit`)."""
        return tuple(self._dead_letters)

    @property
    def dead_letter_count(self) -> int:
        """How many dead letters there have been since the system started."""
        return self._dead_letter_count

    async def requeue(self, letter: DeadLetter) -> None:
        """Send a dead letter's message again to the live actor of its name (S7).

        A journaled dead letter becomes pending again under its own id, attempts reset.
        """
        cell = self.lookup(letter.actor)._cell
        if letter.id is not None and cell.durable and self._writer is not None:
            await self._writer.requeue(letter.id)
            cell.mailbox.force(Envelope(letter.message, id=letter.id))
        else:
            await cell.ref.tell(letter.message)
        with contextlib.suppress(ValueError):
            self._dead_letters.remove(letter)

    # -- observation -----------------------------------------------------------------------------

    async def wait_idle(self) -> None:
        """Wait until every actor has an empty mailbox and waits for more."""
        while True:
            busy = [cell for cell in self._cells.values() if not cell.idle]
            if not busy:
                return
            for cell in busy:
                await cell.wait_idle()

    def statistics(self) -> SystemStatistics:
        """Return a snapshot of the system's counters, including actors that have stopped (O2)."""
        cells = self._cells.values()
        return SystemStatistics(
            actors=len(self._cells),
            supervisors=len(self._supervisors),
            handled=self._retired.handled + sum(c.handled for c in cells),
            failed=self._retired.failed + sum(c.failed for c in cells),
            restarts=self._retired.restarts + sum(c.restarts for c in cells),
            dead_letters=self._dead_letter_count,
            escalations=self._escalations,
        )

    def __repr__(self) -> str:
        return (
            f"<ActorSystem {self._state} actors={len(self._cells)}"
            f" dead_letters={self._dead_letter_count}>"
        )

    # -- internal --------------------------------------------------------------------------------

    def _background(self, fn: Callable[[T], Coroutine[Any, Any, None]], arg: T) -> None:
        """Run a runtime chore (a delivery that must wait for room) in the system's task group.

        A chore that fails is logged; it never takes the system down.
        """
        if self._tg is not None:
            self._tg.start_soon(_chore, fn, arg)

    def _supervisor(self, name: str | None) -> SupervisorCell:
        if self._state != "running" or self._root is None:
            raise ActorflowError(f"the actor system is {self._state}, not running")
        if name is None:
            return self._root
        sup = self._supervisors.get(name)
        if sup is None:
            raise ActorNotFound(f"no running supervisor is called {name!r}")
        return sup

    def _new_cell(self, spec: Child, parent: SupervisorCell) -> ActorCell:
        name = spec.name
        if name is None:
            name = f"{spec.actor.__name__}#{next(self._anonymous)}"
        if name in self._cells:
            raise ActorExists(f"an actor called {name!r} is already running")
        durable = self._writer is not None and spec.name is not None and not spec.ephemeral
        cell = ActorCell(spec, name, self, parent, durable=durable)
        self._cells[name] = cell
        return cell

    def _register(self, cell: ActorCell) -> None:
        """Put a cell that comes back (J5) under its name again."""
        if cell.name in self._cells:
            raise ActorExists(f"an actor called {cell.name!r} is already running")
        self._cells[cell.name] = cell

    def _unregister(self, cell: ActorCell) -> None:
        if self._cells.get(cell.name) is cell:
            del self._cells[cell.name]
            self._retired.handled += cell.handled
            self._retired.failed += cell.failed
            self._retired.restarts += cell.restarts

    def _register_supervisor(self, sup: SupervisorCell) -> None:
        if sup.name in self._supervisors:
            raise ActorExists(f"a supervisor called {sup.name!r} is already running")
        self._supervisors[sup.name] = sup

    def _unregister_supervisor(self, sup: SupervisorCell) -> None:
        if self._supervisors.get(sup.name) is sup:
            del self._supervisors[sup.name]

    def _dead_letter(self, letter: DeadLetter) -> None:
        self._dead_letters.append(letter)
        self._dead_letter_count += 1
