"""A2 with J2: a sender cancelled while its durable tell commits gives its mailbox place back
exactly once. The commit goes on without it: once it lands, the message fills the place it
reserved; if it fails, the place is given back. Before, the cancelled sender gave the place back
too, so every such tell let one more message in than the mailbox holds."""

from __future__ import annotations

import anyio
import pytest

import actorflow as af
from actorflow.journal import Batch, MemoryJournal

pytestmark = pytest.mark.anyio

CAPACITY = 1


class Add(af.Message, tag="test.a2cancel.Add"):
    n: int


class Block(af.Message, tag="test.a2cancel.Block"):
    pass


class Get(af.Message, tag="test.a2cancel.Get"):
    pass


class Total(af.State):
    total: int = 0


class Blocked:
    """The handler of `Block` waits for `go`; `started` says it runs."""

    started: anyio.Event
    go: anyio.Event


class Counter(af.Actor[Total], kind="test.a2cancel.Counter"):
    async def on_block(self, msg: Block) -> None:
        Blocked.started.set()
        await Blocked.go.wait()

    def on_add(self, msg: Add) -> None:
        self.state.total += msg.n

    def on_get(self, msg: Get) -> int:
        return self.state.total


class GatedJournal(MemoryJournal):
    """A memory journal whose writes of appends wait at a gate while `held`, saying when one
    arrived there; `fail_next` makes the next such write fail instead of landing."""

    def __init__(self) -> None:
        super().__init__()
        self.held = False
        self.fail_next = False
        self.arrived = anyio.Event()
        self.gate = anyio.Event()
        self.appended: list[str] = []

    async def write(self, batch: Batch) -> list[int | None]:
        if batch.appends:
            self.appended.extend(m.id for m in batch.appends)
            if self.held:
                self.arrived.set()
                await self.gate.wait()
            if self.fail_next:
                self.fail_next = False
                raise af.JournalCorrupt("a test's failed commit")
        return await super().write(batch)

    def hold(self) -> None:
        self.held, self.arrived, self.gate = True, anyio.Event(), anyio.Event()

    def release(self) -> None:
        self.held = False
        self.gate.set()


async def cancel_while_committing(journal: GatedJournal, ref: af.ActorRef[Counter], n: int) -> None:
    """Tell `Add(n)`, and cancel the sender while its commit waits at the gate; then let the
    commit go on and wait until the writer has finished with it."""
    journal.hold()
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(ref.tell, Add(n))
            await journal.arrived.wait()
            scope.cancel()
    journal.release()
    await anyio.wait_all_tasks_blocked()


async def start_blocked(system: af.ActorSystem) -> af.ActorRef[Counter]:
    Blocked.started, Blocked.go = anyio.Event(), anyio.Event()
    ref = await system.spawn(Counter, name="counter", mailbox_size=CAPACITY)
    await ref.tell(Block())
    await Blocked.started.wait()  # the handler runs: the mailbox is empty, its one place free
    return ref


@pytest.mark.timeout(20)
async def test_a2_j2_a_tell_cancelled_while_it_commits_is_delivered_and_holds_its_place() -> None:
    journal = GatedJournal()
    async with af.ActorSystem(journal=journal) as system:
        ref = await start_blocked(system)
        await cancel_while_committing(journal, ref, 1)
        # The cancelled tell was committed, so it is delivered (J2) and takes the one place.
        assert ref.statistics().mailbox_depth == 1
        # The mailbox is full: the next tell waits for room and never reaches the journal.
        async with anyio.create_task_group() as tg:
            tg.start_soon(ref.tell, Add(10))
            await anyio.wait_all_tasks_blocked()
            assert len(journal.appended) == 2, journal.appended  # Block, Add(1)
            assert ref.statistics().mailbox_depth == CAPACITY
            Blocked.go.set()  # room again: the waiting tell goes in
        assert await ref.ask(Get()) == 11


@pytest.mark.timeout(20)
async def test_a2_j2_a_tell_cancelled_while_its_commit_fails_gives_its_place_back() -> None:
    journal = GatedJournal()
    async with af.ActorSystem(journal=journal) as system:
        ref = await start_blocked(system)
        journal.fail_next = True
        await cancel_while_committing(journal, ref, 1)
        assert ref.statistics().mailbox_depth == 0  # not committed, so not delivered
        # Its place is free again, once: one tell goes in, the next one waits.
        await ref.tell(Add(2))
        async with anyio.create_task_group() as tg:
            tg.start_soon(ref.tell, Add(10))
            await anyio.wait_all_tasks_blocked()
            assert len(journal.appended) == 3, journal.appended  # Block, Add(1) failed, Add(2)
            Blocked.go.set()
        assert await ref.ask(Get()) == 12
