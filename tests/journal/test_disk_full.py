"""A full disk that is freed again recovers, and acknowledges nothing it did not commit (J8, J9).

Each test mounts a 2 MiB tmpfs (as root; CI runs as root), puts a journal on it, fills the
rest with a filler file until the journal's writes fail with `JournalFull`, then truncates the
filler by 700 kB. Without a checkpoint after `JournalFull` the WAL, never checkpointed on so
small a disk (SQLite checkpoints at ~4 MiB of WAL), grew straight back into the freed space.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import functools
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import actorflow as af
from actorflow.journal import Batch, MessageRecord, SQLiteJournal

from .tmpfs import mounted_tmpfs

pytestmark = pytest.mark.anyio

FREED = 700 * 1024
PAD = bytes(200)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted on a fresh directory, unmounted afterwards whatever happened."""
    with mounted_tmpfs(tmp_path, "2m") as disk:
        yield disk


def fill(filler: Path) -> int:
    """Write `filler` until the disk has no room left; return its size."""
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for chunk in (bytes(64 * 1024), bytes(4096), bytes(512)):
            while True:
                try:
                    os.write(fd, chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return filler.stat().st_size


def free(filler: Path, nbytes: int) -> None:
    os.truncate(filler, filler.stat().st_size - nbytes)


class Watched:
    """A journal backend that says when a write has failed with `JournalFull`."""

    def __init__(self, backend: SQLiteJournal) -> None:
        self.backend = backend
        self.full = anyio.Event()

    async def write(self, batch: Batch) -> list[int | None]:
        try:
            return await self.backend.write(batch)
        except af.JournalFull:
            self.full.set()
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


class Blob(af.Message, tag="test.disk_full.Blob"):
    pad: bytes


class Wait(af.Message, tag="test.disk_full.Wait"):
    """Handled by setting `GATE[0]`, then waiting for `GATE[1]`."""


class Report(af.Message, tag="test.disk_full.Report"):
    pass


class Seen(af.State):
    ids: list[str] = []


GATE: list[anyio.Event] = []


class DiskSink(af.Actor[Seen], kind="test.disk_full.DiskSink"):
    """Keeps, in its durable state, the id of every message it handled."""

    def on_blob(self, msg: Blob) -> None:
        assert self.ctx.message_id is not None
        self.state.ids.append(self.ctx.message_id)

    async def on_wait(self, msg: Wait) -> None:
        GATE[0].set()
        await GATE[1].wait()
        assert self.ctx.message_id is not None
        self.state.ids.append(self.ctx.message_id)

    def on_report(self, msg: Report) -> Seen:
        return self.state


def journal_ids(path: Path) -> collections.Counter[tuple[str, str]]:
    """(id, status) of every test message in the journal file, counted."""
    with contextlib.closing(sqlite3.connect(path)) as raw:
        rows = raw.execute("SELECT id, status FROM messages WHERE id LIKE 'm-%'").fetchall()
    return collections.Counter((str(i), str(s)) for i, s in rows)


async def test_j9_a_full_disk_freed_by_700_kb_recovers_and_acknowledges_nothing_wrongly(
    small_disk: Path,
) -> None:
    path, filler = small_disk / "journal.db", small_disk / "filler"
    acked: list[str] = []
    refused: list[tuple[str, str]] = []  # (actor, id) of every tell that raised JournalFull
    count = 0

    async with af.ActorSystem(journal=SQLiteJournal(path)) as system:
        sinks = [await system.spawn(DiskSink, name=f"sink/{i}") for i in range(2)]

        async def tell() -> bool:
            nonlocal count
            sink, message_id = sinks[count % 2], f"m-{count}"
            count += 1
            try:
                await sink.tell(Blob(PAD), id=message_id)
            except af.JournalFull:
                refused.append((sink.name, message_id))
                return False
            acked.append(message_id)
            return True

        for _ in range(20):
            assert await tell()
        await system.wait_idle()
        fill(filler)
        for _ in range(50):  # the disk is full: a tell fails within a few
            if not await tell():
                break
        assert refused, "no tell failed on a full disk"

        free(filler, FREED)
        started = time.monotonic()
        for name, message_id in refused:  # sent again under the same id, as the docs say
            await system.lookup(name).tell(Blob(PAD), id=message_id)
            acked.append(message_id)
        assert time.monotonic() - started < 5.0
        # ~600 commits: without checkpoints the WAL would eat the 700 kB many times over.
        for _ in range(300):
            assert await tell()
        await system.wait_idle()
        assert system.statistics().escalations == 0  # the root supervisor did not give up
        assert system.journal_statistics() is not None

    # What the journal committed, read back by a new system: every acknowledged message once,
    # handled once; nothing else.
    async with af.ActorSystem(journal=SQLiteJournal(path)) as system:
        seen: collections.Counter[str] = collections.Counter()
        for i in range(2):
            state = await system.lookup(f"sink/{i}").ask(Report(), expect=Seen)
            seen.update(state.ids)
    assert journal_ids(path) == collections.Counter((m, "done") for m in acked)
    assert seen == collections.Counter(acked)
    assert len(set(acked)) == len(acked) == count
    with contextlib.closing(sqlite3.connect(path)) as raw:
        assert raw.execute("SELECT count(*) FROM messages WHERE status = 'dead'").fetchone() == (0,)


async def test_j9_a_short_full_disk_episode_reaches_no_supervisor(small_disk: Path) -> None:
    path, filler = small_disk / "journal.db", small_disk / "filler"
    GATE[:] = [anyio.Event(), anyio.Event()]
    backend = Watched(SQLiteJournal(path))
    async with af.ActorSystem(journal=backend) as system:
        sink = await system.spawn(DiskSink, name="sink")
        await sink.tell(Blob(PAD), id="m-before")
        await sink.tell(Wait(), id="m-held")
        with anyio.fail_after(10):
            await GATE[0].wait()  # the sink is in the handler of m-held
            fill(filler)
            async with anyio.create_task_group() as tg:
                tg.start_soon(functools.partial(sink.tell, Blob(PAD), id="m-during"))
                GATE[1].set()  # the held turn's commit and the tell meet the full disk
                await backend.full.wait()  # a commit failed: the writer is retrying it
                free(filler, FREED)
            await system.wait_idle()
        state = await sink.ask(Report(), expect=Seen)
        counters = system.statistics()
        journal = system.journal_statistics()
    assert sorted(state.ids) == ["m-before", "m-during", "m-held"]
    assert (counters.failed, counters.restarts, counters.escalations) == (0, 0, 0)
    assert journal is not None
    assert journal.retries > 0
    assert journal.failures == 0
    assert journal_ids(path) == collections.Counter(
        (m, "done") for m in ("m-before", "m-held", "m-during")
    )


def record(n: int) -> MessageRecord:
    return MessageRecord(id=f"m-{n}", recipient="sink", type="test.disk_full.Blob", body=PAD)


async def test_j9_sqlite_write_after_journal_full_on_a_freed_disk_succeeds_with_the_wal_cut(
    small_disk: Path,
) -> None:
    path, filler = small_disk / "journal.db", small_disk / "filler"
    wal = path.with_name(f"{path.name}-wal")
    journal = SQLiteJournal(path)
    await journal.open()
    try:
        written = 0
        for _ in range(20):
            await journal.write(Batch(appends=[record(written)]))
            written += 1
        fill(filler)
        with pytest.raises(af.JournalFull, match="database or disk is full"):
            for _ in range(1000):
                await journal.write(Batch(appends=[record(written)]))
                written += 1
        full_wal = wal.stat().st_size
        assert await journal.message(f"m-{written}") is None  # the failed write: nothing of it

        free(filler, FREED)
        seqs = await journal.write(Batch(appends=[record(written)]))
        assert seqs == [written + 1]
        # Checkpointed and truncated before the write: the WAL holds that one commit.
        assert wal.stat().st_size < min(full_wal, 64 * 1024)
        for n in range(written + 1, written + 301):  # and stays small while writes go on
            await journal.write(Batch(appends=[record(n)]))
        assert wal.stat().st_size < 64 * 1024
        assert [m.id for m in await journal.pending()] == [f"m-{n}" for n in range(written + 301)]
    finally:
        await journal.close()


async def test_j8_the_wal_is_cut_back_to_its_size_limit_after_a_large_commit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    wal = path.with_name(f"{path.name}-wal")
    journal = SQLiteJournal(path, synchronous="NORMAL")
    await journal.open()
    try:
        big = [
            MessageRecord(id=f"big-{n}", recipient="sink", type="T", body=bytes(100_000))
            for n in range(100)
        ]
        await journal.write(Batch(appends=big))  # ~10 MB of WAL, checkpointed on commit
        assert wal.stat().st_size > 8 * 1024 * 1024
        await journal.write(Batch(appends=[record(0)]))  # restarts the WAL: cut to the limit
        assert wal.stat().st_size <= 4 * 1024 * 1024
    finally:
        await journal.close()
