"""J8: a journal opened with no WAL gets one written whole (zeros) before its first commit, so
that commits overwrite blocks instead of growing the file; a WAL that is there already, frames
and all, is never touched, and a disk short of room gets no prefill."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

import actorflow as af
from actorflow.journal import SQLiteJournal

from ..durable_support import Account, Balance, Deposit
from .tmpfs import mounted_tmpfs

pytestmark = pytest.mark.anyio

WAL_SIZE = 4 * 1024 * 1024  # the journal's WAL size limit, which the prefill writes


def wal_of(path: Path) -> Path:
    return path.with_name(f"{path.name}-wal")


async def test_j8_a_new_journal_s_wal_is_written_whole_and_its_commits_overwrite_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.db"
    async with af.ActorSystem(journal=path) as system:
        assert wal_of(path).stat().st_size == WAL_SIZE  # before anything was committed
        account = await system.spawn(Account, "ann", name="ann")
        for amount in range(1, 201):
            await account.tell(Deposit(amount))
        assert (await account.ask(Balance())).balance == sum(range(1, 201))
        assert wal_of(path).stat().st_size == WAL_SIZE  # written over, not grown
    assert not wal_of(path).exists()  # checkpointed and removed at close, as SQLite does
    assert os.listdir(tmp_path) == ["j.db"]  # no stray file
    async with af.ActorSystem(journal=path) as system:  # and again on the next open
        assert wal_of(path).stat().st_size == WAL_SIZE
        account = await system.spawn(Account, "ann", name="ann")
        assert (await account.ask(Balance())).balance == sum(range(1, 201))


WRITE_AND_DIE = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("UPDATE actorflow_meta SET value = 'left in the WAL' WHERE key = 'note'")
os._exit(0)  # no close: the commit stays in the WAL, not checkpointed into the file
"""


async def test_j8_a_wal_left_with_frames_is_recovered_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    made = SQLiteJournal(path)
    await made.open()  # makes the journal
    await made.close()  # its WAL checkpointed and removed
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO actorflow_meta VALUES ('note', 'in the file')")
    conn.close()
    with anyio.fail_after(30):
        await anyio.run_process([sys.executable, "-c", WRITE_AND_DIE, str(path)])
    left = wal_of(path).stat().st_size
    assert 0 < left < WAL_SIZE  # a WAL holding one commit's frames
    journal = SQLiteJournal(path)
    await journal.open()
    try:
        assert wal_of(path).stat().st_size >= left
    finally:
        await journal.close()
    with sqlite3.connect(path) as conn:
        (note,) = conn.execute("SELECT value FROM actorflow_meta WHERE key = 'note'").fetchone()
    conn.close()
    assert note == "left in the WAL"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MiB tmpfs: room for a journal, not for a 4 MiB WAL and the room kept beside it."""
    with mounted_tmpfs(tmp_path, "6m") as disk:
        yield disk


async def test_j8_a_disk_short_of_room_gets_no_prefilled_wal(small_disk: Path) -> None:
    path = small_disk / "j.db"
    async with af.ActorSystem(journal=path) as system:
        assert wal_of(path).stat().st_size < WAL_SIZE  # SQLite's own, grown as it commits
        account = await system.spawn(Account, "bob", name="bob")
        await account.tell(Deposit(5))
        assert (await account.ask(Balance())).balance == 5
    assert os.listdir(small_disk) == ["j.db"]
