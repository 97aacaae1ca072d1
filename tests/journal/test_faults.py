"""Journal faults give typed errors, acknowledge nothing they did not commit, and recover (J9)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import anyio
import pytest

import actorflow as af
from actorflow.journal import SCHEMA_VERSION, SQLiteJournal

from ..durable_support import Account, Balance, Deposit, Ledger

pytestmark = pytest.mark.anyio


class Big(af.Message, tag="test.Big"):
    blob: bytes


class Sink(af.Actor[None], kind="test.Sink"):
    def __init__(self) -> None:
        self.count = 0

    def on_big(self, msg: Big) -> int:
        self.count += 1
        return self.count


async def test_j9_a_full_disk_raises_journal_full_and_acknowledges_nothing(tmp_path: Path) -> None:
    path = tmp_path / "full.db"
    acked: list[int] = []
    async with af.ActorSystem(journal=SQLiteJournal(path, max_bytes=256 * 1024)) as system:
        sink = await system.spawn(Sink, name="sink")
        with pytest.raises(af.JournalFull, match="full") as info:
            for n in range(1000):
                await sink.tell(Big(bytes(4096)), id=f"big-{n}")
                acked.append(n)
        assert "raise the journal's size limit" in str(info.value)
        refused = f"big-{len(acked)}"
    assert 10 < len(acked) < 1000
    # Once there is room again, everything acknowledged is there and nothing else is.
    async with af.ActorSystem(journal=SQLiteJournal(path)) as system:
        sink = system.lookup("sink")
        await system.wait_idle()
    with sqlite3.connect(path) as raw:
        ids = {row[0] for row in raw.execute("SELECT id FROM messages")}
    assert {f"big-{n}" for n in acked} <= ids
    assert refused not in ids


LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


async def test_j9_a_locked_journal_raises_journal_locked_then_works_again(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    async with af.ActorSystem(journal=path) as system:
        await system.spawn(Account, "ann", name="acct")
    async with await anyio.open_process([sys.executable, "-c", LOCKER, str(path)]) as locker:
        assert locker.stdout is not None
        assert locker.stdin is not None
        assert (await locker.stdout.receive()).strip() == b"locked"
        async with af.ActorSystem(journal=SQLiteJournal(path, busy_timeout=0.05)) as system:
            acct = system.lookup("acct")
            with pytest.raises(af.JournalLocked, match="another process holds the write lock"):
                await acct.tell(Deposit(1))
            await locker.stdin.send(b"\n")
            assert await locker.wait() == 0
            await acct.tell(Deposit(2))
            assert await acct.ask(Balance(), expect=Ledger) == Ledger(balance=2, history=[2])


@pytest.mark.parametrize("senders", [1, 20])
async def test_j8_a_commit_waiting_for_another_process_lock_leaves_the_loop_running(
    tmp_path: Path, senders: int
) -> None:
    """A small commit runs on the loop's thread when the writer thread is idle: one tell's, or
    the tells of 20 senders at once (20 operations: up to 64 go there); one that finds another
    process's write lock goes to the thread to wait for it, so the loop runs on."""
    path = tmp_path / "waiting.db"
    amounts = list(range(2, 2 + senders))
    async with af.ActorSystem(journal=SQLiteJournal(path, busy_timeout=20)) as system:
        acct = await system.spawn(Account, "ann", name="acct")
        sink = await system.spawn(Sink, name="sink", ephemeral=True)  # needs the loop only
        await acct.tell(Deposit(1))
        async with await anyio.open_process([sys.executable, "-c", LOCKER, str(path)]) as locker:
            assert locker.stdout is not None
            assert locker.stdin is not None
            assert (await locker.stdout.receive()).strip() == b"locked"
            told: list[int] = []

            async def tell(amount: int) -> None:
                await acct.tell(Deposit(amount))
                told.append(amount)

            async with anyio.create_task_group() as tg:
                for amount in amounts:
                    tg.start_soon(tell, amount)
                # Blocked in SQLite's busy handler, the loop would answer none of these.
                with anyio.fail_after(5):
                    for n in range(1, 21):
                        assert await sink.ask(Big(b"")) == n
                assert not told  # the lock is still held: the commit waits
                await locker.stdin.send(b"\n")
                assert await locker.wait() == 0
            assert sorted(told) == amounts
        expected = Ledger(balance=1 + sum(amounts), history=[1, *amounts])
        assert await acct.ask(Balance(), expect=Ledger) == expected


async def test_j8_a_journal_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    async with af.ActorSystem(journal=path):
        pass
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE actorflow_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(af.JournalSchemaError, match=r"newer actorflow .*schema 99"):
        async with af.ActorSystem(journal=path):
            pass


async def test_j8_files_that_are_not_journals_are_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(af.JournalSchemaError, match="not a SQLite database"):
        async with af.ActorSystem(journal=garbage):
            pass
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as raw:
        raw.execute("CREATE TABLE users (id INTEGER)")
    with pytest.raises(af.JournalSchemaError, match="not an actorflow journal"):
        async with af.ActorSystem(journal=foreign):
            pass


async def test_j9_a_truncated_journal_raises_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "truncated.db"
    async with af.ActorSystem(journal=path) as system:
        acct = await system.spawn(Account, "ann", name="acct")
        for n in range(200):
            await acct.tell(Deposit(n))
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(af.JournalError) as info:
        async with af.ActorSystem(journal=path) as system:
            await system.lookup("acct").ask(Balance())
    assert str(path) in str(info.value)


EMPTY_FILE = "is an empty file, not an actorflow journal; delete it to start a new journal there"


def files_in(directory: Path) -> list[str]:
    """The names of the files in `directory` (SQLite's -wal and -shm go when it closes)."""
    return sorted(p.name for p in directory.iterdir())


async def test_j8_an_empty_file_is_refused_and_left_empty(tmp_path: Path) -> None:
    # A journal truncated to nothing must not silently start again empty (J9, P3).
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(af.JournalSchemaError) as info:
        async with af.ActorSystem(journal=path):
            pass
    assert str(info.value).startswith(f"{path} {EMPTY_FILE}")
    assert path.stat().st_size == 0
    assert files_in(tmp_path) == ["empty.db"]


async def test_j8_a_sqlite_database_without_tables_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blank.db"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 1")  # a valid header page, and no table
    raw.close()
    with pytest.raises(
        af.JournalSchemaError, match="is an empty SQLite database, not an actorflow"
    ):
        async with af.ActorSystem(journal=path):
            pass
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    raw.close()


async def test_j8_a_missing_path_becomes_a_new_journal_with_nothing_beside_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new.db"
    async with af.ActorSystem(journal=path) as system:
        acct = await system.spawn(Account, "ann", name="acct")
        await acct.tell(Deposit(3))
        assert await acct.ask(Balance(), expect=Ledger) == Ledger(balance=3, history=[3])
    async with af.ActorSystem(journal=path) as system:
        assert await system.lookup("acct").ask(Balance(), expect=Ledger) == Ledger(
            balance=3, history=[3]
        )
    # The schema was built in a file beside the path and linked into place; none is left.
    assert files_in(tmp_path) == ["new.db"]


async def test_j8_two_journals_opening_one_new_path_at_once_share_one_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "raced.db"
    journals = [SQLiteJournal(path), SQLiteJournal(path)]
    async with anyio.create_task_group() as tg:
        for journal in journals:
            tg.start_soon(journal.open)
    try:
        assert [await j.schema_version() for j in journals] == [SCHEMA_VERSION] * 2
    finally:
        for journal in journals:
            await journal.close()
    assert files_in(tmp_path) == ["raced.db"]
