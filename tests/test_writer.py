"""The group-commit writer's reads between commits (J5, J11): `Writer.read`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from actorflow import JournalError
from actorflow.durable import Writer
from actorflow.journal import MemoryJournal, MessageRecord

pytestmark = pytest.mark.anyio


def record(message_id: str) -> MessageRecord:
    return MessageRecord(id=message_id, recipient="a", type="T", body=b"\x80")


@pytest.fixture
async def writer() -> AsyncIterator[Writer]:
    backend = MemoryJournal()
    await backend.open()
    writer = Writer(backend)
    async with anyio.create_task_group() as tg:
        await tg.start(writer.run)
        yield writer
        writer.close()
    await backend.close()


async def test_j5_a_read_runs_after_the_deliveries_of_the_commits_before_it(
    writer: Writer,
) -> None:
    busy, release = anyio.Event(), anyio.Event()
    delivered: list[str] = []

    async def hold() -> None:
        busy.set()
        await release.wait()

    async def read() -> list[str]:
        return list(delivered)  # what had been delivered when the read ran

    async with anyio.create_task_group() as tg:
        tg.start_soon(writer.read, hold)  # keeps the writer busy: what follows queues up
        await busy.wait()
        tg.start_soon(writer.append, [record("m1")], [lambda seq: delivered.append("m1")])
        await anyio.wait_all_tasks_blocked()
        assert delivered == []
        release.set()
        seen = await writer.read(read)
    assert seen == ["m1"]


async def test_j5_no_commit_lands_while_a_read_runs(writer: Writer) -> None:
    reading, release = anyio.Event(), anyio.Event()
    backend = writer.backend

    async def slow_read() -> list[str]:
        reading.set()
        await release.wait()
        return [m.id for m in await backend.pending()]

    committed: list[list[int | None]] = []

    async def append_late() -> None:
        committed.append(await writer.append([record("late")]))

    async with anyio.create_task_group() as tg:
        tg.start_soon(writer.append, [record("early")])
        await anyio.wait_all_tasks_blocked()
        read_result: list[list[str]] = []

        async def read() -> None:
            read_result.append(await writer.read(slow_read))

        tg.start_soon(read)
        await reading.wait()
        tg.start_soon(append_late)
        await anyio.wait_all_tasks_blocked()
        assert committed == []  # submitted while the read ran: waits for it
        assert await backend.message("late") is None
        release.set()
    assert read_result == [["early"]]
    assert len(committed) == 1


async def test_j5_a_failing_read_is_a_journal_error_and_the_writer_goes_on(
    writer: Writer,
) -> None:
    async def broken() -> None:
        raise ValueError("the backend has a bug")

    with pytest.raises(JournalError, match="ValueError: the backend has a bug"):
        await writer.read(broken)
    assert await writer.append([record("after")]) != [None]
