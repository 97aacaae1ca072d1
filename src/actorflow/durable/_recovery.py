"""What a journal gives back to its system (J5): the actors it holds, their last state and
pending messages, and passivated actors brought back on their next message.

At start the system reads every durable actor and all pending messages once; each actor takes
its share as it starts. Later, an actor that is not in memory (passivated, or left in the
journal at start) is brought back when a message arrives for it: through a ref someone kept,
the same cell comes back; otherwise a new one is made from its journal record.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any, Protocol

import anyio

from .._cell import ActorCell, CannotStart
from .._errors import ActorStopped, JournalError, StartFailed
from .._handlers import actor_kind
from .._names import normal_name
from .._spec import Child
from .._supervisor import SupervisorCell, Tree
from ..journal import ActorRecord, Failed, JournalBackend, MessageRecord, TimerRecord
from ._cell import DurableCell
from ._delivery import JournaledCell
from ._options import decode_options, encode_options, options_of
from ._records import decode_args, encode_args
from ._writer import Writer

__all__ = ["Recovery", "Registry"]

logger = logging.getLogger("actorflow")


class Registry(Tree, Protocol):
    """What recovery needs of its system: the tree's names, and whether it runs."""

    @property
    def cells(self) -> Mapping[str, ActorCell]:
        """The live actors by name."""
        ...

    @property
    def root(self) -> SupervisorCell | None:
        """The root supervisor, once the system has started."""
        ...

    @property
    def running(self) -> bool:
        """Whether the system runs (not starting, stopping or stopped)."""
        ...

    @property
    def state(self) -> str:
        """The system's state, for messages: "running", "stopping"..."""
        ...

    def find(self, name: str) -> ActorCell | None:
        """The live actor called `name`, if any."""
        ...

    def find_supervisor(self, name: str) -> SupervisorCell | None:
        """The running supervisor called `name`, if any."""
        ...


class Recovery:
    """A system's recovered and passivated durable actors."""

    def __init__(
        self,
        tree: Registry,
        writer: Writer,
        backend: JournalBackend,
        arm: Callable[[TimerRecord], None],
    ) -> None:
        self.tree = tree
        self.writer = writer
        self.backend = backend
        self.arm = arm
        # name -> (its record, its pending messages), read once at start, taken by each actor
        # that starts with the system.
        self.recovered: dict[str, tuple[ActorRecord | None, list[MessageRecord]]] = {}
        # Passivated actors someone still holds a ref to: a message through it brings that
        # same cell back. The rest live only in the journal.
        self.passivated: weakref.WeakValueDictionary[str, JournaledCell] = (
            weakref.WeakValueDictionary()
        )
        self.activating: dict[str, anyio.Event] = {}
        # Every durable actor of the journal and its kind, as last read (at start, at each
        # change of ownership) or registered here: what `lookup` can route to another node.
        self.kinds: dict[str, str] = {}
        self.begun = False  # the declared and recovered actors have started (`started`)
        self.missed = False  # what this node owns changed before that

    # -- at start --------------------------------------------------------------------------------

    async def load(self) -> None:
        """Read every durable actor, every pending message and every timer, once."""
        backend = self.backend
        owns = backend.owns  # of several nodes, each restores only its own actors (C2)
        every = await backend.actors()
        self.kinds = {a.name: a.kind for a in every}
        actors = [a for a in every if owns(a.name)]
        pending: dict[str, list[MessageRecord]] = {}
        for message in await backend.pending():
            if owns(message.recipient):
                pending.setdefault(message.recipient, []).append(message)
        self.recovered = {a.name: (a, pending.pop(a.name, [])) for a in actors}
        for name, messages in pending.items():  # messages for actors not registered yet
            self.recovered[name] = (None, messages)
        for timer in await backend.timers():
            if owns(timer.message.recipient):
                self.arm(timer)  # those due while the system was down fire at once

    def adopt(self, root: SupervisorCell) -> None:
        """Re-create the durable actors the journal holds that nobody declared.

        Every one gets its name before any starts, so that no recovered actor sends to a name
        that is not there yet; they start with the root supervisor, in journal order. Those
        that passivate and have nothing pending stay in the journal until needed.
        """
        tree = self.tree
        for name, (record, pending) in list(self.recovered.items()):
            if record is None or tree.find(name) is not None:
                continue
            cls = actor_kind(record.kind)
            if cls is None:
                logger.error(
                    "cannot re-activate durable actor %s: its class %s is not defined in this"
                    " process (import it before the system starts); its %d pending message(s)"
                    " stay in the journal",
                    name,
                    record.kind,
                    len(pending),
                )
                continue
            if decode_options(record.options).passivate_after is not None and not pending:
                continue  # passivated: it comes back on its next message
            parent = tree.find_supervisor(record.supervisor or "") or root
            cell = tree.make_cell(spec_of(cls, record), parent)
            assert isinstance(cell, DurableCell)
            cell.recovered = True
            parent.children.append(cell)

    def started(self) -> None:
        """The declared and recovered actors have started: what was read at start is stale
        from now on (timers fire, other processes append), so later restores read the
        journal themselves (J5)."""
        self.recovered = {}
        self.begun = True
        if self.missed:  # what it owns changed while it started: look again now
            self.missed = False
            self.tree.background(self._look_again, None)

    async def _look_again(self, _: None) -> None:
        await self.ownership_changed()

    async def restore(self, cell: JournaledCell) -> None:
        """Give a durable actor its journal: registration, last state, pending messages."""
        writer = self.writer
        spec = cell.spec
        found = self.recovered.pop(cell.name, None)
        if found is None:
            # Read through the writer: a message committed before the read has been delivered
            # (held by the cell), so it is not taken from both the journal and its delivery.
            record, pending = await writer.read(partial(_journal_of, self.backend, cell.name))
        else:
            record, pending = found
        supervisor = cell.parent.name if cell.parent is not self.tree.root else None
        await self.register(cell.name, spec, supervisor, record)
        if not self.backend.owns(cell.name):
            # Registered (a registration needs no ownership), it runs on its owner (C2).
            raise CannotStart(
                f"actor {cell.name} runs on the node of the journal that owns it, not here",
                level=logging.INFO,
            )
        unreadable = cell.restore(record, pending)
        if unreadable:
            await writer.failed_many(unreadable)

    async def register(
        self, name: str, spec: Child, supervisor: str | None, record: ActorRecord | None
    ) -> None:
        """Record durable actor `name`'s kind, arguments, options and supervisor, unless
        `record` (what the journal has) says the same already."""
        args = encode_args(name, spec.args)
        options = encode_options(spec)
        kind = spec.actor.__actorflow_kind__  # type: ignore[attr-defined]  # an Actor class
        # Compared decoded: stored options of an older layout mean the same, not "changed".
        if record is None or (
            record.kind,
            record.args,
            decode_options(record.options),
            record.supervisor,
        ) != (kind, args, options_of(spec), supervisor):
            await self.writer.register(ActorRecord(name, kind, args, options, None, supervisor))
        self.kinds[name] = kind

    # -- passivation -----------------------------------------------------------------------------

    def passivate(self, cell: JournaledCell) -> None:
        """`cell` left memory; a ref to it can still bring it back."""
        self.tree.retire(cell)
        self.passivated[cell.name] = cell

    async def running(self, name: str, cls: type[Any]) -> ActorCell | None:
        """The durable actor `name` of class `cls` if it runs, brought back if passivated."""
        activating = self.activating.get(name)
        if activating is not None:
            await activating.wait()  # a message is bringing it back
        live = self.tree.find(name)
        if live is None:
            passivated = self.passivated.get(name)
            if passivated is not None and passivated.spec.actor is cls:
                return await self.reactivate(passivated)
            return None
        return live if isinstance(live, JournaledCell) and live.spec.actor is cls else None

    async def reactivate(self, cell: ActorCell) -> ActorCell:
        """Bring a passivated actor back under its supervisor; returns the live cell."""
        assert isinstance(cell, DurableCell)
        await cell.wait_passivated()
        if cell.mailbox.closed:
            raise cell.stopped_error()  # stopped for good (with the system) while unloading
        live = self.tree.find(cell.name)
        if live is not None:
            return live  # back already (another message, or a spawn, was first)
        self.passivated.pop(cell.name, None)
        parent = cell.parent
        if not (isinstance(parent, SupervisorCell) and parent.alive):
            parent = self._root(cell.name)
        cell.recovered = True  # a failing start is its supervisor's to handle
        await parent.readd(cell)
        return cell

    async def come_back(self, cell: ActorCell) -> None:
        """A message reached passivated `cell` through a ref: bring it back (a chore)."""
        with self._unless_stopping():
            await self.reactivate(cell)

    def take_in(self, records: list[MessageRecord]) -> None:
        """Deliver messages that were committed without a mailbox waiting for them: from
        another process (J11) or a timer (J6). Runs in the journal writer, right after the
        commit that made them pending and before any other, so whoever holds an actor now
        either has read them from the journal or will get them here, never both or neither.

        An actor in memory gets each one it does not hold yet (held while it restores); one
        that is not is brought back, and reads them in its restore. Unreadable ones become
        dead letters (M3).
        """
        tree = self.tree
        unreadable: list[Failed] = []
        for record in records:
            cell = tree.find(record.recipient)
            if not isinstance(cell, JournaledCell):
                tree.background(self.activate, record.recipient)
                continue
            failed = cell.accept_outside(record)
            if failed is not None:
                unreadable.append(failed)
        if unreadable:
            tree.background(self._dead_letter_unreadable, unreadable)

    def cancel(self, records: list[MessageRecord]) -> None:
        """Messages another process cancelled (J11): the actor holding one, in memory or
        passivated with its deliveries held, drops it before its handler starts. Runs in the
        journal writer, as `take_in` does; an actor that is not in memory reads only pending
        messages when it comes back, so it never sees them."""
        for record in records:
            cell = self.tree.find(record.recipient) or self.passivated.get(record.recipient)
            if isinstance(cell, JournaledCell):
                cell.cancel_outside(record)

    async def _dead_letter_unreadable(self, records: list[Failed]) -> None:
        await self.writer.failed_many(records)

    async def activate(self, name: str) -> None:
        """Bring back the durable actor called `name` that is not in memory, if the journal
        has it (a message for it arrived from a timer or another process)."""
        if self.tree.find(name) is not None or name in self.activating:
            return  # one that comes back reads every message committed before it did
        self.activating[name] = done = anyio.Event()
        try:
            with self._unless_stopping():
                await self._activate(name)
        finally:
            del self.activating[name]
            done.set()

    async def bring_here(self, name: str) -> JournaledCell | None:
        """Bring back durable actor `name`, which this node owns, for a message on its way
        to it: activated now if nothing is bringing it back yet (its shard taken over but its
        actors not activated yet, C3; or left passivated in the journal, J5), else waited for;
        its live cell, or None if it cannot come back here (logged; the message then waits in
        the journal for an actor of that name to start)."""
        try:
            await self.activate(name)
            activating = self.activating.get(name)
            if activating is not None:
                await activating.wait()  # a takeover, or another message, is bringing it back
        except StartFailed as exc:
            # Its supervisor has logged why; the sender is not told of a start that failed.
            logger.warning("actor %s could not come back here: %s", name, exc)
            return None
        cell = self.tree.find(name)
        return cell if isinstance(cell, JournaledCell) else None

    async def _activate(self, name: str) -> None:
        if not self.backend.owns(name):
            return  # its owner takes its messages in (C2)
        passivated = self.passivated.get(name)
        if passivated is not None:
            await self.reactivate(passivated)
            return
        tree = self.tree
        record = await self.backend.actor(name)
        cls = None if record is None else actor_kind(record.kind)
        if tree.find(name) is not None:
            return
        if record is None or cls is None:
            logger.warning(
                "a message is waiting for %s, which does not run here and cannot be"
                " re-activated (%s); it stays pending in the journal until a durable actor of"
                " that name starts",
                name,
                "no such actor in the journal"
                if record is None
                else f"its class {record.kind} is not defined in this process",
            )
            return
        parent = tree.find_supervisor(record.supervisor or "") or self._root(name)
        await parent.add(spec_of(cls, record))

    # -- ownership (C2, C3) --------------------------------------------------------------------

    async def ownership_changed(self) -> None:
        """What this node owns changed: the actors it lost stop (their messages stay pending
        for their new owner: nothing is dead-lettered), those it gained come back (J5)."""
        if not self.begun:
            self.missed = True  # the actors read at start are still starting
            return
        owns = self.backend.owns
        for name, cell in list(self.passivated.items()):
            if not owns(name):
                del self.passivated[name]
                cell.close()
        lost = [c for c in self.tree.cells.values() if isinstance(c, DurableCell)]
        lost = [c for c in lost if not owns(c.name)]
        if lost:
            logger.info("%d actor(s) moved to other nodes; stopping them here", len(lost))
            async with anyio.create_task_group() as tg:
                for cell in lost:
                    tg.start_soon(self._let_go, cell)
        if self.tree.running:
            await self.gained()

    async def _let_go(self, cell: DurableCell) -> None:
        cell.moved = True  # from now on what is sent through it goes to its owner (C4)
        parent = cell.parent
        if isinstance(parent, SupervisorCell):
            await parent.remove(cell)
        else:
            await cell.shutdown()
            cell.close()

    async def gained(self) -> None:
        """Bring back the actors of the shards this node owns that do not run here, with
        their pending messages in order (J5), and arm their timers (J6)."""
        backend, tree = self.backend, self.tree
        owns = backend.owns
        pending = {m.recipient for m in await backend.pending() if owns(m.recipient)}
        every = await backend.actors()
        self.kinds.update((a.name, a.kind) for a in every)
        for record in every:
            name = record.name
            if not owns(name) or tree.find(name) is not None:
                continue
            if decode_options(record.options).passivate_after is not None and (name not in pending):
                continue  # passivated: it comes back on its next message
            tree.background(self.activate, name)
        for timer in await backend.timers():
            if owns(timer.message.recipient):
                self.arm(timer)

    @contextlib.contextmanager
    def _unless_stopping(self) -> Iterator[None]:
        """The journal closing under a chore that brings an actor back, as the system stops,
        is not a failure: the message that called for it stays pending in the journal."""
        try:
            yield
        except JournalError:
            if self.tree.running:
                raise

    def _root(self, name: str) -> SupervisorCell:
        """The root supervisor, to bring `name` back under; `ActorStopped` once the system
        stops (the message that called for it stays pending in the journal)."""
        root = self.tree.root
        if not self.tree.running or root is None:
            raise ActorStopped(
                f"actor {name} cannot come back: the actor system is {self.tree.state}",
                actor=name,
            )
        return root

    def stop(self) -> None:
        """The system stops: passivated actors stop for good with it (S8).

        Messages held for them stay pending in the journal; their askers hear `ActorStopped`
        now rather than wait for an actor that cannot come back.
        """
        for cell in list(self.passivated.values()):
            cell.close()
        self.passivated.clear()


async def _journal_of(
    backend: JournalBackend, name: str
) -> tuple[ActorRecord | None, list[MessageRecord]]:
    return await backend.actor(name), await backend.pending(name)


def spec_of(cls: type[Any], record: ActorRecord) -> Child:
    """The spec a durable actor is re-created with from its journal record."""
    options = decode_options(record.options)
    if normal_name(record.name) != record.name:
        # Names are NFC since they are normalised at every door; an older journal may hold
        # another spelling, which a spec would turn into a different actor than the rows say.
        raise JournalError(
            f"the journal holds actor name {record.name!a}, which is not in Unicode NFC:"
            f" rename it to {normal_name(record.name)!a} in the actors and messages"
            " tables (sqlite3)"
        )
    return Child(
        cls,
        *decode_args(cls, record.name, record.args),
        name=record.name,
        restart=options.restart,
        mailbox_size=options.mailbox_size,
        max_attempts=options.max_attempts,
        shutdown_timeout=options.shutdown_timeout,
        passivate_after=options.passivate_after,
    )
