"""J2, J3 with several commits on their way at once (`PipelinedWrites`): the journal's writer sends
the next batch while one commits; a batch that followed a failed commit is written again,
after it, and no turn's effects land twice or out of order.

The journal is a memory journal that keeps the contract of a server's (`write_following`: it
commits after the write called before it, and only if that one committed), with commits that
take a while, as a server's do, so that two are on their way at once.
"""

from __future__ import annotations

import asyncio

import anyio
import anyio.lowlevel
import pytest

import actorflow as af
from actorflow import testing
from actorflow.durable import Writer
from actorflow.journal import (
    Batch,
    CommitNotFollowed,
    MemoryJournal,
    MessageRecord,
    PipelinedWrites,
)

from .test_j3_pipelining import Adder, Get, Log, a_commit_fails_among_many_turns, send_concurrently

pytestmark = pytest.mark.anyio


class OnTheirWay(MemoryJournal):
    """Commits two at a time; the first with a done-mark of `actor` after `after` of them
    fails (`after=None`: none fails)."""

    depth = 2

    def __init__(self, actor: str, after: int | None) -> None:
        super().__init__()
        self.watched, self.after = actor, after
        self.failed = self.not_followed = self.in_flight = self.most_in_flight = 0
        self.done_batches: list[int] = []  # done-marks of `actor` per commit, in commit order
        self._last: asyncio.Future[bool] | None = None  # whether the last write called landed

    async def write(self, batch: Batch) -> list[int | None]:
        return await self._commit(batch, following=False)

    async def write_following(self, batch: Batch) -> list[int | None]:
        return await self._commit(batch, following=True)

    async def _commit(self, batch: Batch, *, following: bool) -> list[int | None]:
        before = self._last
        landed = self._last = asyncio.get_running_loop().create_future()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            for _ in range(3):  # on its way, as to a server
                await anyio.lowlevel.checkpoint()
            if following and before is not None and not await asyncio.shield(before):
                self.not_followed += 1
                raise CommitNotFollowed("the commit before it did not land")
            mine = sum(1 for d in batch.done if d.actor == self.watched)
            failing = self.after is not None and not self.failed
            if mine and failing and sum(self.done_batches) >= (self.after or 0):
                self.failed += 1
                raise af.JournalCorrupt("a test's failed commit")
            seqs = await super().write(batch)
            if mine:
                self.done_batches.append(mine)
        except BaseException:
            landed.set_result(False)
            raise
        finally:
            self.in_flight -= 1
        landed.set_result(True)
        return seqs


def test_the_test_journal_keeps_the_contract() -> None:
    assert isinstance(OnTheirWay("a", None), PipelinedWrites)
    assert not isinstance(MemoryJournal(), PipelinedWrites)


@pytest.mark.timeout(30)
async def test_j2_the_writer_sends_the_next_batch_while_one_commits() -> None:
    journal = OnTheirWay("adder", after=None)
    async with af.ActorSystem(journal=journal) as system:
        log = await system.spawn(Log, name="log")
        adder = await system.spawn(Adder, name="adder")
        await send_concurrently(adder, senders=20, each=20)
        await testing.wait_idle(system)
        expected = sum(s * 1000 + k for s in range(20) for k in range(20))
        assert await adder.ask(Get()) == (expected, 400)
        await testing.wait_idle(system)
        assert await log.ask(Get()) == (expected, 400)
    assert journal.most_in_flight == OnTheirWay.depth
    assert journal.not_followed == 0
    assert sum(journal.done_batches) == 401  # 400 adds and the ask


@pytest.mark.timeout(30)
async def test_j3_a_batch_that_followed_a_failed_commit_is_written_again_after_it() -> None:
    """A commit fails while the next is on its way: that one writes nothing and goes back to
    the queue, first; the actor re-runs its turns from its last committed state (J3), and every
    message is applied once, every message it sent delivered once."""
    journal = OnTheirWay("adder", after=50)
    await a_commit_fails_among_many_turns(journal)
    assert journal.failed == 1
    assert journal.not_followed >= 1  # the next batch was on its way, and wrote nothing


class RefusesItsFirstFollower(MemoryJournal):
    """Commits two at a time: each `write` waits until the test lets it go (`first`); the
    first `write_following` says it has come (`followed`), waits for `follower`, and is
    refused a few steps of the loop later (`CommitNotFollowed`), as a server refuses a commit
    that reached it before the one it follows; every other write lands."""

    depth = 2

    def __init__(self) -> None:
        super().__init__()
        self.first, self.followed, self.follower = anyio.Event(), anyio.Event(), anyio.Event()
        self.refused = 0

    async def write(self, batch: Batch) -> list[int | None]:
        await self.first.wait()
        return await super().write(batch)

    async def write_following(self, batch: Batch) -> list[int | None]:
        if not self.refused:
            self.refused += 1
            self.followed.set()
            await self.follower.wait()
            for _ in range(20):  # time for what is queued meanwhile to be sent behind it
                await anyio.lowlevel.checkpoint()
            raise CommitNotFollowed("it reached the server before the commit it follows")
        return await super().write(batch)


def record(message_id: str) -> MessageRecord:
    return MessageRecord(id=message_id, recipient="a", type="T", body=b"\x80")


@pytest.mark.timeout(30)
async def test_j5_a_read_sent_behind_a_refused_commit_runs_after_it_lands() -> None:
    """A read queued while the commit before it is on its way goes out behind it, writing
    nothing; that commit refused, the read goes back with it and runs once it has landed
    (found by the cluster kill loop: the read was dropped, and the node took in no notice
    again)."""
    journal = RefusesItsFirstFollower()
    await journal.open()
    writer = Writer(journal)
    appended: list[list[int | None]] = []
    async with anyio.create_task_group() as tg:
        await tg.start(writer.run)

        async def append(message_id: str) -> None:
            appended.append(await writer.append([record(message_id)]))

        tg.start_soon(append, "m1")  # on its way, held
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(append, "m2")  # sent behind it
        await journal.followed.wait()
        journal.first.set()  # m1 lands; m2 is still on its way

        async def pending() -> list[str]:
            return [m.id for m in await journal.pending()]

        seen: list[list[str]] = []
        read_ran = anyio.Event()

        async def read() -> None:
            seen.append(await writer.read(pending))
            read_ran.set()

        tg.start_soon(read)  # behind m2, as a batch that writes nothing
        journal.follower.set()  # m2 is refused, and goes back first
        with anyio.fail_after(5):
            await read_ran.wait()
        writer.close()
    await journal.close()
    assert journal.refused == 1
    assert seen == [["m1", "m2"]]  # after m2 landed
    assert sorted(appended) == [[1], [2]]
