"""Outside producers (J11): another process appends; the running system picks it up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest

import actorflow as af
from actorflow.durable import _outside
from actorflow.journal import MemoryJournal, MessageRecord, SQLiteJournal
from actorflow.journal._statements import append_outside, requeue_outside
from actorflow.journal._wake import wake

from .support import Ask, Remind, Reminder, Reminders, fired, outside

pytestmark = pytest.mark.anyio

BODY = af.Codec(Remind).encode(Remind("from outside"))


def append_from_another_connection(path: Path, record: MessageRecord, *, poke: bool) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        append_outside(conn, record)
    finally:
        conn.close()
    if poke:
        wake(path)


async def test_j11_a_wake_up_brings_an_outside_message_in_without_the_slow_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_outside, "CHECK_SECONDS", 3600.0)  # only the wake-up can do it
    path = tmp_path / "j.db"
    async with af.ActorSystem(journal=path) as system:
        ref = await system.spawn(Reminder, name="rem")
        await ref.ask(Ask("ready?"))
        await anyio.to_thread.run_sync(
            lambda: append_from_another_connection(path, outside("out-1"), poke=True)
        )
        assert await fired(ref, 1) == ["from outside"]
    async with af.ActorSystem(journal=path) as system:  # handled once, not again on restart
        ref = system.lookup("rem")
        await system.wait_idle()
        assert (await ref.ask(Ask("?"), expect=Reminders)).fired == ["from outside"]


async def test_j11_without_a_wake_up_the_slow_check_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_outside, "CHECK_SECONDS", 0.05)
    path = tmp_path / "j.db"
    async with af.ActorSystem(journal=path) as system:
        ref = await system.spawn(Reminder, name="rem")
        append_from_another_connection(path, outside("out-1"), poke=False)
        assert await fired(ref, 1) == ["from outside"]


async def test_j11_a_message_appended_while_down_is_handled_once_after_the_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.db"
    async with af.ActorSystem(journal=path) as system:
        await system.spawn(Reminder, name="rem")
    append_from_another_connection(path, outside("out-1"), poke=True)
    append_from_another_connection(path, outside("out-1"), poke=True)  # the same id: a no-op
    async with af.ActorSystem(journal=path) as system:
        ref = system.lookup("rem")
        # Restored from the journal and then also named by its notice: handled once. Take
        # the notice in now, as the watcher does, so the check below comes after it.
        durability = system._services.durability
        assert durability is not None
        await durability.writer.take_notices(durability.recovery.take_in)
        assert await fired(ref, 1) == ["from outside"]
        await system.wait_idle()
        assert (await ref.ask(Ask("?"), expect=Reminders)).fired == ["from outside"]


async def test_j11_an_outside_requeue_is_picked_up(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    async with af.ActorSystem(journal=path) as system:
        ref = await system.spawn(Reminder, name="rem")
        await ref.ask(Ask("ready?"))
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute(
            "INSERT INTO messages (id, recipient, type, body, created_at, status, attempts)"
            " VALUES ('dead-1', 'rem', 'agents.Remind', ?, 0, 'dead', 3)",
            (BODY,),
        )
        assert requeue_outside(conn, "dead-1")
        assert not requeue_outside(conn, "dead-1")  # pending now, not dead
        conn.close()
        wake(path)
        assert await fired(ref, 1) == ["from outside"]


async def test_j11_outside_messages_for_unknown_actors_wait_in_the_journal() -> None:
    journal = MemoryJournal()
    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Reminder, name="rem")
        journal.append_outside(outside("for-nobody", recipient="nobody"))
        journal.append_outside(outside("for-rem"))
        assert await fired(ref, 1) == ["from outside"]
        (waiting,) = await journal.pending("nobody")
        assert waiting.id == "for-nobody"
    async with af.ActorSystem(journal=journal) as system:
        other = await system.spawn(Reminder, name="nobody")
        assert await fired(other, 1) == ["from outside"]


async def test_j11_an_outside_message_that_does_not_decode_is_a_dead_letter() -> None:
    journal = MemoryJournal()
    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Reminder, name="rem")
        bad = MessageRecord(id="bad", recipient="rem", type="agents.Remind", body=b"\xc1")
        journal.append_outside(bad)
        journal.append_outside(outside("good"))
        assert await fired(ref, 1) == ["from outside"]
        await system.wait_idle()
    found = await journal.message("bad")
    assert found is not None
    assert found.status == "dead"


def test_j11_a_wake_up_with_nobody_listening_is_harmless(tmp_path: Path) -> None:
    assert wake(tmp_path / "nobody-runs-this.db") is False


async def test_j11_the_sqlite_journal_wakes_its_watcher(tmp_path: Path) -> None:
    journal = SQLiteJournal(tmp_path / "j.db")
    await journal.open()
    woken = anyio.Event()
    stop = journal.watch_notices(woken.set)
    try:
        assert wake(tmp_path / "j.db")
        with anyio.fail_after(5):
            await woken.wait()
    finally:
        stop()
        await journal.close()
