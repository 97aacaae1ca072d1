"""Durable actors: write-ahead tells (J2), atomic turns (J3), recovery (J5), J1, S7, M3."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

import actorflow as af
from actorflow import testing
from actorflow.journal import JournalBackend, MemoryJournal, PostgresJournal, SQLiteJournal

from .durable_support import GATES, Account, Balance, Deposit, Hold, Ledger, Transfer
from .journal.postgres_server import PostgresServer

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "memory", "postgres"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JournalBackend]:
    if request.param == "sqlite":
        yield SQLiteJournal(tmp_path / "journal.db")
    elif request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        yield PostgresJournal(server.new_database())
    else:
        yield MemoryJournal()


async def balance(ref: af.ActorRef[Account]) -> Ledger:
    return await ref.ask(Balance(), expect=Ledger)


async def test_j2_a_tell_returns_once_the_message_is_committed(journal: JournalBackend) -> None:
    async with af.ActorSystem(journal=journal) as system:
        gate = GATES["j2"] = anyio.Event()
        ref = await system.spawn(Account, "ann", name="j2")
        await ref.tell(Hold())
        await ref.tell(Deposit(5), id="dep-1")
        pending = [m.id for m in await journal.pending("j2")]
        assert "dep-1" in pending  # committed before tell returned, not handled yet
        gate.set()
        assert (await balance(ref)).balance == 5


async def test_j2_the_same_id_twice_is_a_no_op(journal: JournalBackend) -> None:
    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Account, "ann", name="idem")
        for _ in range(3):
            await ref.tell(Deposit(5), id="once")
        assert (await balance(ref)).balance == 5


async def test_j2_two_tells_of_one_id_in_one_group_commit_are_handled_once(
    journal: JournalBackend,
) -> None:
    """J2: the copy of an id repeated within one commit is a no-op too (SQLite's write gave it
    the first copy's seq, and the writer delivered the message twice)."""
    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Account, "ann", name="twice")
        async with anyio.create_task_group() as tg:
            for _ in range(2):
                tg.start_soon(lambda: ref.tell(Deposit(5), id="same"))
        stats = system.journal_statistics()
        assert stats is not None
        assert stats.largest_batch >= 2  # both tells were in one commit
        ledger = await balance(ref)
        assert (ledger.balance, ledger.history) == (5, [5])
        assert [m.id for m in await journal.pending("twice")] == []


async def test_j5_state_survives_a_restart_of_the_system(journal: JournalBackend) -> None:
    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Account, "ann", name="acct")
        for amount in (1, 2, 3):
            await ref.tell(Deposit(amount))
        assert (await balance(ref)).history == [1, 2, 3]
    async with af.ActorSystem(journal=journal) as system:
        ref = system.lookup("acct")  # re-activated from the journal by its kind
        assert await balance(ref) == Ledger(balance=6, history=[1, 2, 3])
        again = await system.spawn(Account, "ann", name="acct")
        assert again == ref  # spawning a running durable actor returns it


async def test_j5_pending_messages_are_redelivered_in_order_before_new_ones(
    journal: JournalBackend,
) -> None:
    GATES["order"] = anyio.Event()  # never set: the first run stops with work pending
    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Account, "ann", name="order", shutdown_timeout=0.01)
        await ref.tell(Hold())
        for amount in (1, 2, 3):
            await ref.tell(Deposit(amount))
    assert [m.type for m in await _pending(journal, "order")] == [
        "test.Hold",
        "test.Deposit",
        "test.Deposit",
        "test.Deposit",
    ]
    GATES["order"] = anyio.Event()
    GATES["order"].set()
    async with af.ActorSystem(journal=journal) as system:
        ref = system.lookup("order")
        await ref.tell(Deposit(4))
        assert (await balance(ref)).history == [1, 2, 3, 4]


async def _pending(journal: JournalBackend, name: str) -> list[af.journal.MessageRecord]:
    await journal.open()
    try:
        return await journal.pending(name)
    finally:
        await journal.close()


async def test_j3_sent_messages_leave_only_with_the_commit(journal: JournalBackend) -> None:
    async with af.ActorSystem(journal=journal) as system:
        alice = await system.spawn(Account, "alice", name="alice", max_attempts=1)
        bob = await system.spawn(Account, "bob", name="bob")
        await alice.tell(Deposit(100))
        with pytest.raises(af.ActorFailed):
            await alice.ask(Transfer("bob", 30, fail_after_send=True))
        await alice.tell(Transfer("bob", 20))
        await testing.wait_idle(system)
        assert (await balance(bob)).history == [20]  # the failed turn's Deposit never left
        assert (await balance(alice)).balance == 80  # and its state change was not kept
    (letter,) = system.dead_letters
    assert letter.id is not None
    assert letter.error == "RuntimeError: failed after sending"


async def test_s7_dead_letters_are_kept_in_the_journal_and_can_be_requeued(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        alice = await system.spawn(Account, "alice", name="a", max_attempts=2)
        await system.spawn(Account, "bob", name="b")
        with pytest.raises(af.ActorFailed):
            await alice.ask(Transfer("b", 1, fail_after_send=True))
        (letter,) = system.dead_letters
    await journal.open()
    (dead,) = await journal.dead_letters()
    await journal.close()
    assert (dead.id, dead.attempts, dead.error) == (letter.id, 2, letter.error)
    assert "RuntimeError: failed after sending" in (dead.traceback or "")
    async with af.ActorSystem(journal=journal) as system:
        await system.spawn(Account, "bob", name="b")
        await system.requeue(letter)  # fails again: visible again, never silently lost
        await testing.wait_idle(system)
        assert system.dead_letter_count == 1


async def test_j1_ephemeral_and_anonymous_actors_are_not_journaled(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        eph = await system.spawn(Account, "e", name="eph", ephemeral=True)
        anon = await system.spawn(Account, "x")
        await eph.tell(Deposit(1))
        await anon.tell(Deposit(1))
        eph.tell_nowait(Deposit(1))  # in-memory actors never wait for the journal
        with pytest.raises(af.ActorflowError, match="is durable"):
            (await system.spawn(Account, "d", name="durable")).tell_nowait(Deposit(1))
        await testing.wait_idle(system)
    await journal.open()
    names = [a.name for a in await journal.actors()]
    await journal.close()
    assert names == ["durable"]


async def test_j5_an_unknown_kind_is_logged_and_its_messages_stay(
    journal: JournalBackend,
) -> None:
    class Ghost(af.Actor[None], kind="test.Ghost.gone"):
        def on_deposit(self, msg: Deposit) -> None:
            return None

    GATES["ghost"] = anyio.Event()
    async with af.ActorSystem(journal=journal) as system:
        ghost = await system.spawn(Ghost, name="ghost", shutdown_timeout=0.01)
        await ghost.tell(Deposit(1))
    from actorflow import _handlers

    del _handlers._by_kind["test.Ghost.gone"]  # as if its module were not imported
    try:
        with testing.capture_logs() as records:
            async with af.ActorSystem(journal=journal):
                pass
    finally:
        _handlers._by_kind["test.Ghost.gone"] = Ghost
    (line,) = [r.getMessage() for r in records if "cannot re-activate" in r.getMessage()]
    assert "test.Ghost.gone" in line


async def test_m3_an_unreadable_pending_message_becomes_a_dead_letter(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    GATES["m3"] = anyio.Event()
    async with af.ActorSystem(journal=path) as system:
        ref = await system.spawn(Account, "ann", name="m3", shutdown_timeout=0.01)
        await ref.tell(Hold())
        await ref.tell(Deposit(1), id="bad")
        await ref.tell(Deposit(2))
    import sqlite3

    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE messages SET body = x'c1c1' WHERE id = 'bad'")
    GATES["m3"].set()
    async with af.ActorSystem(journal=path) as system:
        ref = system.lookup("m3")
        assert (await balance(ref)).history == [2]  # its neighbours are handled
    backend = SQLiteJournal(path)
    await backend.open()
    (dead,) = await backend.dead_letters()
    await backend.close()
    assert dead.id == "bad"
    assert "cannot decode" in (dead.error or "")


async def test_j8_journal_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    async with af.ActorSystem(journal=path) as system:
        ref = await system.spawn(Account, "ann", name="p")
        await ref.tell(Deposit(1))
        for suffix in ("", "-wal", "-shm"):
            mode = stat.S_IMODE(os.stat(f"{path}{suffix}").st_mode)
            assert mode == 0o600, (suffix, oct(mode))


async def test_j4_a_handler_sees_the_same_message_id_on_every_attempt(
    journal: JournalBackend,
) -> None:
    seen: list[str | None] = []

    class Flaky(af.Actor[None], kind="test.Flaky"):
        def on_deposit(self, msg: Deposit) -> None:
            seen.append(self.ctx.message_id)
            if len(seen) < 2:
                raise RuntimeError("first attempt fails")

    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Flaky, name="flaky")
        await ref.tell(Deposit(1), id="stable-key")
        await testing.wait_idle(system)
    assert seen == ["stable-key", "stable-key"]


class DurableWatcher(af.Actor[Ledger], kind="test.DurableWatcher"):
    def on_deposit(self, msg: Deposit) -> None:
        self.ctx.watch(self.ctx.system.lookup("watched"))

    def on_terminated(self, msg: af.Terminated) -> None:
        self.state.history.append(len(msg.actor))

    def on_balance(self, msg: Balance) -> Ledger:
        return self.state


async def test_a_durable_watcher_gets_terminated_through_the_journal(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        watched = await system.spawn(Account, "w", name="watched", ephemeral=True)
        watcher = await system.spawn(DurableWatcher, name="watcher")
        await watcher.tell(Deposit(0))
        await watched.stop()
        await testing.wait_idle(system)
        assert (await watcher.ask(Balance(), expect=Ledger)).history == [len("watched")]


async def test_s4_a_root_giving_up_over_a_journal_raises_supervisor_gave_up(
    journal: JournalBackend,
) -> None:
    root = af.Supervisor(name="root", max_restarts=0)
    with pytest.raises(af.SupervisorGaveUp):
        async with af.ActorSystem(journal=journal, root=root) as system:
            ref = await system.spawn(Account, "a", name="giver", max_attempts=1)
            await ref.tell(Transfer("nobody", 1))  # fails: no actor called "nobody"
            await anyio.sleep_forever()


class WithDefaults(af.Actor[None], kind="test.WithDefaults"):
    def __init__(self, label: str, limit: int = 10) -> None:
        self.label, self.limit = label, limit

    def on_balance(self, msg: Balance) -> str:
        return f"{self.label}/{self.limit}"


async def test_j5_actors_spawned_without_optional_arguments_come_back(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        await system.spawn(WithDefaults, "x", name="defaults")
    async with af.ActorSystem(journal=journal) as system:
        assert await system.lookup("defaults").ask(Balance()) == "x/10"


class Opaque(af.Message, tag="test.Opaque"):
    value: object


class Keeper(af.Actor[None], kind="test.Keeper"):
    def on_opaque(self, msg: Opaque) -> None:
        return None

    def on_balance(self, msg: Balance) -> str:
        return "ok"


async def test_m3_an_unencodable_message_raises_encode_error_and_keeps_the_mailbox_open(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Keeper, name="keeper", mailbox_size=2)
        for _ in range(3):
            with pytest.raises(af.EncodeError, match="cannot encode Opaque for keeper"):
                await ref.tell(Opaque(object()))
        assert await ref.ask(Balance()) == "ok"  # no room was lost to the failed sends


class BrokenBackend(MemoryJournal):
    async def write(self, batch: af.journal.Batch) -> list[int | None]:  # type: ignore[override]
        if batch.appends:
            raise OSError("disk controller on fire")
        return await super().write(batch)


async def test_j9_a_backend_failing_with_a_foreign_error_fails_the_write_typed() -> None:
    async with af.ActorSystem(journal=BrokenBackend()) as system:
        ref = await system.spawn(Keeper, name="k")
        with pytest.raises(af.JournalError, match="OSError: disk controller on fire"):
            await ref.ask(Balance())


async def test_j8_a_journal_path_with_uri_characters_opens_that_file(tmp_path: Path) -> None:
    path = tmp_path / "odd#name?.db"
    async with af.ActorSystem(journal=path) as system:
        ref = await system.spawn(Account, "ann", name="odd")
        await ref.tell(Deposit(3))
        assert (await balance(ref)).balance == 3
    assert sorted(os.listdir(tmp_path)) == ["odd#name?.db"]


async def test_o2_journal_counters_are_readable_without_opentelemetry(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem() as memory_only:
        assert memory_only.journal_statistics() is None
    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Account, "ann", name="o2")
        for amount in range(1, 11):
            await ref.tell(Deposit(amount))
        await balance(ref)
        stats = system.journal_statistics()
        counters = system.statistics()
    assert stats is not None
    # Each tell is committed before it returns; each handled message commits once more.
    assert stats.commits >= 11
    assert stats.operations >= 22
    assert stats.largest_batch >= 1
    assert stats.total_commit_seconds >= stats.last_commit_seconds > 0
    assert (stats.retries, stats.failures) == (0, 0)
    assert (counters.handled, counters.failed) == (11, 0)
    assert ref.statistics().handled == 11


async def test_j2_a2_a_durable_tell_waits_for_room_then_commits_and_a_stopped_actor_refuses(
    journal: JournalBackend,
) -> None:
    """A tell with room commits at once (its commit's future is what it awaits); one that finds
    the mailbox full waits for room first and commits after; once the actor has stopped, a
    tell raises `ActorStopped` and nothing more is appended."""
    async with af.ActorSystem(journal=journal) as system:
        gate = GATES["room"] = anyio.Event()
        ref = await system.spawn(Account, "ann", name="room", mailbox_size=1)
        await ref.tell(Hold())
        await anyio.wait_all_tasks_blocked()  # Hold's handler runs, waiting at the gate
        await ref.tell(Deposit(1))  # takes the one place
        async with anyio.create_task_group() as tg:
            tg.start_soon(ref.tell, Deposit(2))
            await anyio.wait_all_tasks_blocked()
            assert [m.type for m in await journal.pending()] == ["test.Hold", "test.Deposit"]
            gate.set()  # room again: the waiting tell commits and goes in
        assert (await balance(ref)).history == [1, 2]
        await ref.stop()
        with pytest.raises(af.ActorStopped, match="room"):
            await ref.tell(Deposit(3))
        assert [m.type for m in await journal.pending()] == []
