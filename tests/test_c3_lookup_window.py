"""`lookup` while a shard changes hands (C3, C4): the node that has just claimed a shard owns
its actors before it has brought them back. A ref from `lookup` then is a working ref all the
same: a tell through it is committed (J2) and an ask answered (A3), each handled once, by the
actor brought back here for it.

Two real systems over one real PostgreSQL journal in this process (as `test_c2_nodes.py`).
The window is held open, not hoped for: the second node's journal holds back its news of a
change of ownership until the test lets it through, so that node owns the shards it claimed
and has not been told (`HeldBack`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import psycopg
import pytest

import actorflow as af
from actorflow.journal import PostgresJournal

from .durable_support import Account, Balance, Deposit, Ledger, Transfer
from .journal.postgres_server import PostgresServer

pytestmark = pytest.mark.anyio

NAMES = [f"window-{i}" for i in range(16)]
LEASE = 0.9  # a round every 0.3 s: a quick hand-over


class HeldBack(PostgresJournal):
    """A node's journal that tells its system of a change of ownership only once `gate` is
    set: until then the node owns the shards it claimed and has not brought their actors
    back (the window after a takeover). `told` is set once the system has been told."""

    def __init__(self, url: str, node: str) -> None:
        super().__init__(url, node=node, lease=LEASE)
        self.gate = anyio.Event()
        self.told = anyio.Event()

    async def join(self, changed: Callable[[], Awaitable[None]]) -> None:
        async def held_back() -> None:
            await self.gate.wait()
            await changed()
            self.told.set()

        await super().join(held_back)


async def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll `condition` (the nodes' shards, what they run) until it holds."""
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110  # shards and running actors: polled, bounded
            await anyio.sleep(0.02)


def running(system: af.ActorSystem) -> set[str]:
    return {ref.name for ref in system.actors()}


def deposits(url: str, name: str) -> list[tuple[object, ...]]:
    """The status of every Deposit message to `name` in the journal, in order."""
    with psycopg.connect(url, autocommit=True) as conn:
        return list(
            conn.execute(
                "SELECT status, attempts FROM messages WHERE recipient = %s"
                " AND type = 'test.Deposit' ORDER BY seq",
                (name,),
            ).fetchall()
        )


async def test_c3_c4_lookup_of_an_actor_whose_shard_was_just_taken_over_gives_a_working_ref(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    journal_b = HeldBack(url, "b")
    with anyio.fail_after(60):
        async with af.ActorSystem(journal=PostgresJournal(url, node="a", lease=LEASE)) as a:
            for name in NAMES:
                await (await a.spawn(Account, name, name=name)).tell(Deposit(1))
            try:
                async with af.ActorSystem(journal=journal_b) as b:
                    # a releases its share (its actors stop first), b claims it and is not
                    # told: b owns them, nobody runs them.
                    await until(lambda: sum(journal_b.owns(n) for n in NAMES) >= 2)
                    told, asked = sorted(n for n in NAMES if journal_b.owns(n))[:2]
                    assert not journal_b.told.is_set()
                    assert {told, asked}.isdisjoint(running(a) | running(b))

                    # A tell through the ref lookup gives is committed and handled here.
                    ref = b.lookup(told)
                    await ref.tell(Deposit(5))
                    ledger = await ref.ask(Balance(), expect=Ledger)
                    assert ledger.history == [1, 5]
                    # An ask as the first message is answered by the actor it brought back.
                    assert await b.lookup(asked).ask(Deposit(7)) == 8
                    assert {told, asked} <= running(b)
                    assert not journal_b.told.is_set()  # all of it inside the window

                    journal_b.gate.set()  # b now hears of the takeover: brings back the rest
                    await journal_b.told.wait()
                    # The takeover found them running: each handled what it was sent once.
                    for name, history in ((told, [1, 5]), (asked, [1, 7])):
                        ledger = await b.lookup(name).ask(Balance(), expect=Ledger)
                        assert ledger.history == history
                    assert deposits(url, told) == [("done", 1), ("done", 1)]
                    assert deposits(url, asked) == [("done", 1), ("done", 1)]
            finally:
                journal_b.gate.set()


async def test_c3_c4_a_passivating_actor_taken_over_comes_back_for_its_next_message(
    postgres: PostgresServer,
) -> None:
    """An actor that passivates is not brought back by a takeover unless a message waits for
    it (J5): it comes back with its next message. That message may come through a ref held
    from before the takeover, from `lookup` after it, or from a handler's turn here (J3): each
    brings the actor back on the node that owns it now, and is handled once. (A ref held from
    before used to commit the message with no notice, the node owning it, and leave it pending
    unseen; from a handler the same.)"""
    url = postgres.new_database()
    journal_b = HeldBack(url, "b")
    with anyio.fail_after(60):
        async with af.ActorSystem(journal=PostgresJournal(url, node="a", lease=LEASE)) as a:
            for name in NAMES:
                ref = await a.spawn(Account, name, name=name, passivate_after=600)
                await ref.tell(Deposit(1))
            try:
                async with af.ActorSystem(journal=journal_b) as b:
                    held = {name: b.lookup(name) for name in NAMES}  # a runs them all: stand-ins
                    await until(lambda: sum(journal_b.owns(n) for n in NAMES) >= 4)
                    moved = sorted(n for n in NAMES if journal_b.owns(n))
                    journal_b.gate.set()  # b brings back what it took, but those, which passivate
                    await journal_b.told.wait()
                    await until(lambda: {*moved[:3]}.isdisjoint(running(a) | running(b)))
                    through_held, through_lookup, from_handler, sender = moved[:4]
                    assert sender not in running(b)

                    await held[through_held].tell(Deposit(5))
                    await b.lookup(through_lookup).tell(Deposit(6))
                    assert {through_held, through_lookup} <= running(b)
                    # From a handler here: the sender's Transfer looks `from_handler` up, and
                    # the Deposit leaves with the sender's commit, which alone brings it back.
                    await b.lookup(sender).tell(Transfer(from_handler, 7))
                    assert (await b.lookup(sender).ask(Balance(), expect=Ledger)).balance == -6
                    await until(lambda: from_handler in running(b))
                    for name, amount in ((through_held, 5), (through_lookup, 6), (from_handler, 7)):
                        ledger = await b.lookup(name).ask(Balance(), expect=Ledger)
                        assert ledger.history == [1, amount], name
                        assert deposits(url, name) == [("done", 1), ("done", 1)]
            finally:
                journal_b.gate.set()
