"""Several systems over one PostgreSQL journal, in one process (C2, C3): each durable actor
runs on exactly one node, a joining node takes a share, a node that leaves hands its actors
over with their state and pending messages, and a ref to an actor of another node works (C4).

Real systems over a real server (`tests/journal/postgres_server.py`); the kill and pause tests
with real node processes are in `tests/test_c3_failover.py`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import anyio
import pytest

import actorflow as af
from actorflow.journal import PostgresJournal

from .durable_support import Account, Balance, Deposit, Ledger, Transfer
from .journal.postgres_server import PostgresServer

pytestmark = pytest.mark.anyio

NAMES = [f"acc-{i}" for i in range(16)]
LEASE = 0.9  # a round every 0.3 s: quick hand-overs to watch


@contextlib.asynccontextmanager
async def node(url: str, name: str) -> AsyncIterator[af.ActorSystem]:
    async with af.ActorSystem(journal=PostgresJournal(url, node=name, lease=LEASE)) as system:
        yield system


def running(system: af.ActorSystem) -> set[str]:
    return {ref.name for ref in system.actors()}


async def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll `condition` (what the systems run) until it holds."""
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110  # what the systems run: polled, bounded
            await anyio.sleep(0.05)


def split(*running: set[str]) -> bool:
    """Every actor runs, on exactly one of the nodes, and each node runs some."""
    together = set().union(*running)
    return together == set(NAMES) and sum(map(len, running)) == len(NAMES) and all(running)


async def until_balance(system: af.ActorSystem, name: str, history: list[int]) -> None:
    """Ask `name` on `system` until its history is `history` (messages from another node
    arrive through the journal)."""
    with anyio.fail_after(30):
        while (await balance(system, name)).history != history:  # noqa: ASYNC110  # polled, bounded
            await anyio.sleep(0.05)


async def balance(system: af.ActorSystem, name: str) -> Ledger:
    ledger: Ledger = await system.lookup(name).ask(Balance())
    return ledger


async def test_c2_a_joining_node_takes_a_share_and_a_leaving_one_hands_over(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    async with node(url, "a") as first:
        refs = {}
        for name in NAMES:
            refs[name] = ref = await first.spawn(Account, name, name=name)
            await ref.tell(Deposit(1))
        assert running(first) == set(NAMES)
        async with node(url, "b") as second:
            # The second takes about half (its fair share) and the first lets those go.
            await until(lambda: split(running(first), running(second)))
            moved = running(second)
            for name in moved:  # state came along (J5)
                assert (await balance(second, name)).history == [1]
            for name in NAMES:  # the refs from before the move still work (C4)
                await refs[name].tell(Deposit(2))
            for name in NAMES:
                owner = second if name in moved else first
                await until_balance(owner, name, [1, 2])
            # C4: a ref to an actor of the other node (from spawn or lookup) works; a tell
            # through it is committed here and handled there, in order.
            there = sorted(moved)[0]
            here = sorted(set(NAMES) - moved)[0]
            spawned = await first.spawn(Account, there, name=there)
            assert first.lookup(there) == spawned  # one stand-in, while refs hold it
            await spawned.tell(Deposit(3))
            await first.lookup(there).tell(Deposit(4))
            # Sent from a handler here to an actor there: it leaves with the handler's commit.
            await first.lookup(here).tell(Transfer(there, 10))
            await until_balance(second, there, [1, 2, 3, 4, 10])
            assert (await balance(first, here)).balance == 3 - 10
            # An ask across nodes gets the owner's reply through the journal (C4).
            ledger = await first.lookup(there).ask(Balance(), expect=Ledger)
            assert ledger.history == [1, 2, 3, 4, 10]
        # A clean shutdown hands its actors back at once.
        await until(lambda: running(first) == set(NAMES))
        for name in NAMES:
            expected = [1, 2, 3, 4, 10] if name == there else [1, 2]
            assert (await balance(first, name)).history == expected


async def test_c2_three_nodes_share_the_actors(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    async with node(url, "a") as first:
        for name in NAMES:
            await (await first.spawn(Account, name, name=name)).tell(Deposit(1))
        async with node(url, "b") as second, node(url, "c") as third:
            systems = (first, second, third)
            await until(lambda: split(*(running(s) for s in systems)))
            # Each told once, through the first node wherever it runs now (C4): the shares may
            # still be settling, so a name read from one node's list may be on another's next.
            for name in NAMES:
                await first.lookup(name).tell(Deposit(5))
        # The others left (handing their actors back at once); an ask queues behind what is
        # pending, so each ledger says what was handled, wherever it was.
        await until(lambda: running(first) == set(NAMES))
        for name in NAMES:
            assert (await balance(first, name)).history == [1, 5]


# name -> (the system it is held on, its on_start has begun there, the gate it then waits
# for): armed only for the actors a test holds back as they come back on a node.
RETURNING: dict[str, tuple[af.ActorSystem, anyio.Event, anyio.Event]] = {}


class Returning(af.Actor[Ledger], kind="test.Returning"):
    """A durable actor whose ``on_start`` waits at its gate in `RETURNING`, on that system."""

    async def on_start(self) -> None:
        held = RETURNING.get(self.ctx.name)
        if held is not None and held[0] is self.ctx.system:
            _, entered, gate = held
            entered.set()
            await gate.wait()

    def on_balance(self, msg: Balance) -> Ledger:
        return self.state


async def test_s8_c3_a_node_stopping_while_actors_come_back_stops_them_all(
    postgres: PostgresServer,
) -> None:
    """examples/two_nodes.py hung now and then as its first node stopped: the actors the other
    node had handed back were still starting (C3) when the stop began. Here they are held in
    their ``on_start`` until the stop has reached the last of them; the others are then let
    through (each start sees the stop and stops its actor), then the last. The stop must end,
    with every actor stopped (S8); it used to leave the ones the node had kept running, and
    wait for them for ever."""
    url = postgres.new_database()
    try:
        with anyio.fail_after(45):
            async with node(url, "a") as first:
                for name in NAMES:
                    await first.spawn(Returning, name=name)
                async with node(url, "b") as second:
                    await until(
                        lambda: (
                            split(running(first), running(second))
                            and all(ref.status == "running" for ref in second.actors())
                        )
                    )
                    moved, kept = running(second), running(first)
                    assert len(moved) >= 3  # two give up while the stop waits on a third
                    for name in moved:  # held on a as they come back to it
                        RETURNING[name] = (first, anyio.Event(), anyio.Event())
                for name in moved:
                    await RETURNING[name][1].wait()
                refs = {name: first.lookup(name) for name in NAMES}
                async with anyio.create_task_group() as tg:
                    tg.start_soon(first.stop)
                    # The stop begins with the last to start: one of those coming back, still
                    # in its on_start.
                    await until(lambda: any(refs[n].status == "stopping" for n in moved))
                    (last,) = (n for n in moved if refs[n].status == "stopping")
                    for name in moved - {last}:
                        RETURNING[name][2].set()
                    await until(lambda: all(refs[n].status == "stopped" for n in moved - {last}))
                    RETURNING[last][2].set()
                    with anyio.fail_after(10):
                        while any(refs[n].status != "stopped" for n in NAMES):  # noqa: ASYNC110  # polled, bounded
                            await anyio.sleep(0.05)
                assert all(refs[n].status == "stopped" for n in kept)
    finally:
        RETURNING.clear()
