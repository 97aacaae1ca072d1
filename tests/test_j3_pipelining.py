"""J3 pipelining: a durable actor handles its next message while its last turns commit, and
nothing a turn produced leaves before its own commit; a failed commit re-runs the turns after it
from the last committed state."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

import actorflow as af
from actorflow import testing
from actorflow.journal import Batch, MemoryJournal

pytestmark = pytest.mark.anyio


class Add(af.Message, tag="test.j3pipe.Add"):
    n: int


class Get(af.Message, tag="test.j3pipe.Get"):
    pass


class Seen(af.Message, tag="test.j3pipe.Seen"):
    n: int


class Hold(af.Message, tag="test.j3pipe.Hold"):
    pass


GATE: dict[str, anyio.Event] = {}


class Sum(af.State):
    total: int = 0
    adds: int = 0


class Adder(af.Actor[Sum], kind="test.j3pipe.Adder"):
    async def on_add(self, msg: Add) -> int:
        await anyio.lowlevel.checkpoint()  # the writer runs meanwhile: batches split the turns
        self.state.total += msg.n
        self.state.adds += 1
        self.ctx.system.lookup("log").tell_nowait(Seen(msg.n))  # leaves with the turn (J3)
        return self.state.total

    def on_get(self, msg: Get) -> tuple[int, int]:
        return self.state.total, self.state.adds

    async def on_hold(self, msg: Hold) -> None:
        await GATE["adder"].wait()  # until its mailbox is full of adds


class Log(af.Actor[Sum], kind="test.j3pipe.Log"):
    def on_seen(self, msg: Seen) -> None:
        self.state.total += msg.n
        self.state.adds += 1

    def on_get(self, msg: Get) -> tuple[int, int]:
        return self.state.total, self.state.adds


class FailsOneCommit(MemoryJournal):
    """A journal whose first commit holding a done-mark of `actor` after `after` of them fails."""

    def __init__(self, actor: str, after: int) -> None:
        super().__init__()
        self.watched, self.after, self.failed = actor, after, 0
        self.done_batches: list[int] = []  # done-marks of `actor` per commit

    async def write(self, batch: Batch) -> list[int | None]:
        # Slow, as a disk is: the actor handles more messages meanwhile, and their turns queue
        # behind this commit.
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        mine = sum(1 for d in batch.done if d.actor == self.watched)
        if mine and not self.failed and sum(self.done_batches) >= self.after:
            self.failed += 1
            raise af.JournalCorrupt("a test's failed commit")
        if mine:
            self.done_batches.append(mine)
        return await super().write(batch)


async def send_concurrently(ref: af.ActorRef[Adder], senders: int, each: int) -> None:
    async def send(base: int) -> None:
        for k in range(each):
            while True:
                try:
                    await ref.tell(Add(base + k))
                    break
                except af.JournalError:
                    continue  # not committed, so not acknowledged: send it again

    async with anyio.create_task_group() as tg:
        for s in range(senders):
            tg.start_soon(send, s * 1000)


@pytest.mark.timeout(30)
async def test_j3_one_actors_turns_share_group_commits() -> None:
    journal = FailsOneCommit("adder", after=10**9)  # never fails
    async with af.ActorSystem(journal=journal) as system:
        await system.spawn(Log, name="log")
        adder = await system.spawn(Adder, name="adder")
        await send_concurrently(adder, senders=20, each=20)
        await testing.wait_idle(system)
        expected = sum(s * 1000 + k for s in range(20) for k in range(20))
        assert await adder.ask(Get()) == (expected, 400)
    # Twenty senders keep the mailbox full: the actor ran ahead of its commits, several of its
    # turns in each (without pipelining every commit would hold exactly one).
    assert max(journal.done_batches) > 1, journal.done_batches
    assert sum(journal.done_batches) == 401  # 400 adds and the ask


async def a_commit_fails_among_many_turns(journal: MemoryJournal) -> None:
    """300 adds queued behind a held turn, and one commit of `journal` failing among them
    (it fails the first commit of its choosing): every add applied once to the state, and
    every message the actor sent delivered once; none of the turns whose commit failed, or
    that ran after it, leaked or doubled, and the actor restarted once."""
    expected = sum(s * 1000 + k for s in range(10) for k in range(30))
    GATE["adder"] = anyio.Event()
    with testing.capture_logs():
        async with af.ActorSystem(journal=journal) as system:
            log = await system.spawn(Log, name="log")
            adder = await system.spawn(Adder, name="adder", max_attempts=5)
            await adder.tell(Hold())
            await send_concurrently(adder, senders=10, each=30)
            # 300 adds wait in the mailbox: the actor runs far ahead of its commits, and the
            # failed one has later turns of the actor queued behind it.
            GATE["adder"].set()
            await testing.wait_idle(system)
            assert await adder.ask(Get()) == (expected, 300)
            await testing.wait_idle(system)
            assert await log.ask(Get()) == (expected, 300)
            assert adder.statistics().restarts == 1
    state = (await journal.actor("adder")).state  # type: ignore[union-attr]
    assert state is not None
    assert af.Codec(Sum).decode(state) == Sum(expected, 300)
    assert await journal.pending() == []


@pytest.mark.timeout(30)
async def test_j3_a_failed_commit_re_runs_the_turns_after_it_from_its_last_committed_state() -> (
    None
):
    journal = FailsOneCommit("adder", after=50)
    await a_commit_fails_among_many_turns(journal)
    assert journal.failed == 1
    assert journal.done_batches[-1] < 300
