"""J4: a step's result is committed in its caller's task when the writer rests (nothing queued,
nothing on its way) and the backend can commit at once (`WritesNow`); otherwise, and whenever
that commit cannot be made, it goes through the writer as before, behind what was queued first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from actorflow import JournalError, JournalFull
from actorflow.durable import Writer
from actorflow.journal import Batch, MessageRecord, SQLiteJournal, StepRecord

pytestmark = pytest.mark.anyio


class Watched(SQLiteJournal):
    """A real SQLite journal that notes which of its writes went where, and can refuse the
    next commit made at once (`refuse`)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.written: list[tuple[str, list[str]]] = []  # (how, what the batch held)
        self.refuse: BaseException | None = None
        self.declines = False
        self._writing = False  # in `write`, which makes a small commit with `write_now` too

    async def write(self, batch: Batch) -> list[int | None]:
        self.written.append(("writer", held(batch)))
        self._writing = True
        try:
            return await super().write(batch)
        finally:
            self._writing = False

    def write_now(self, batch: Batch) -> list[int | None] | None:
        if not self._writing:  # the writer's own attempt for a step
            if self.refuse is not None:
                error, self.refuse = self.refuse, None
                raise error
            if self.declines:
                return None
            self.written.append(("here", held(batch)))
        return super().write_now(batch)


def held(batch: Batch) -> list[str]:
    return [m.id for m in batch.appends] + [s.step for s in batch.steps]


def step(name: str) -> StepRecord:
    return StepRecord("m-1", name, b"\x01")


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[Watched]:
    backend = Watched(tmp_path / "j.db")
    await backend.open()
    yield backend
    await backend.close()


@pytest.fixture
async def writer(journal: Watched) -> AsyncIterator[Writer]:
    writer = Writer(journal)
    async with anyio.create_task_group() as tg:
        await tg.start(writer.run)
        await anyio.wait_all_tasks_blocked()  # the writer task waits for work
        yield writer
        writer.close()


async def test_j4_a_step_commits_in_its_caller_s_task_when_the_writer_rests(
    journal: Watched, writer: Writer
) -> None:
    commit = writer.step(step("a"))
    assert commit.done()  # committed before step() returned: nothing to wait for
    await commit
    assert journal.written == [("here", ["a"])]
    assert await journal.steps("m-1") == {"a": b"\x01"}
    assert writer.statistics().commits == 1


async def test_j4_a_step_behind_queued_work_commits_after_it_through_the_writer(
    journal: Watched, writer: Writer
) -> None:
    delivered: list[int | None] = []
    record = MessageRecord(id="m-1", recipient="a", type="T", body=b"\x80")
    told = writer.tell(record, lambda item, seq: delivered.append(seq), None)
    recorded = writer.step(step("b"))  # queued: the tell is not committed yet
    assert not recorded.done()
    await recorded
    await told
    assert journal.written == [("writer", ["m-1", "b"])]  # one commit, the tell first
    assert delivered == [1]


@pytest.mark.parametrize("refusal", ["raises", "declines"])
async def test_j4_a_step_that_cannot_commit_here_commits_through_the_writer(
    journal: Watched, writer: Writer, refusal: str
) -> None:
    if refusal == "raises":
        journal.refuse = JournalFull("database or disk is full")
    else:
        journal.declines = True
    await writer.step(step("c"))
    assert journal.written == [("writer", ["c"])]
    assert await journal.steps("m-1") == {"c": b"\x01"}
    assert writer.statistics().failures == 0


async def test_j4_no_step_commits_here_once_the_writer_is_closing(
    journal: Watched, writer: Writer
) -> None:
    writer.close()
    with pytest.raises(JournalError, match="the journal writer has stopped"):
        writer.step(step("d"))
    assert journal.written == []
