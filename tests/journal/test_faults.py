"""Journal faults give typed errors, acknowledge nothing they did not commit, and recover (J9)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import anyio
import pytest

import actorflow as af
from actorflow.journal import SQLiteJournal

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
