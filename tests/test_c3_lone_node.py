"""A node alone on its journal, whose lease lapsed while the server was away (C2, C3, J2).

Found by the cluster kill loop (tests/crash/cluster.py, a server restart). The server is away
for longer than the lease but far less than `reconnect_timeout`; once it is back the writer may
reconnect before the node renews its lease, and the database refuses that group commit (the
lease lapsed by its clock: right). The node, alone and still holding every shard once it
renews, must carry on: every tell acknowledged, every message handled once. It used to fail the
tells with `OwnershipLost` and count the refusal as its actors' handlers failing, restarting
them against the supervisor's intensity until it gave up with their messages pending.
"""

from __future__ import annotations

import anyio
import anyio.to_thread
import pytest

import actorflow as af
from actorflow.journal import PostgresJournal

from .durable_support import Account, Balance, Deposit, Ledger
from .journal.postgres_server import PostgresServer

pytestmark = pytest.mark.anyio

LEASE = 0.9
ACCOUNTS = 8
DEPOSITS = 100  # each account's, one after another


@pytest.mark.timeout(120)
async def test_c3_a_lone_node_carries_on_after_the_server_was_away_longer_than_its_lease(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    journal = PostgresJournal(url, node="n1", lease=LEASE)
    acked = [0] * ACCOUNTS
    async with af.ActorSystem(journal=journal) as system:
        refs = [await system.spawn(Account, f"o{i}", name=f"acc-{i}") for i in range(ACCOUNTS)]
        going = anyio.Event()

        async def deposits(index: int) -> None:  # handled while the server goes away
            for _ in range(DEPOSITS):
                await refs[index].tell(Deposit(1))
                acked[index] += 1
                if sum(acked) >= ACCOUNTS * 10:
                    going.set()

        try:
            async with anyio.create_task_group() as tg:
                for index in range(ACCOUNTS):
                    tg.start_soon(deposits, index)
                await going.wait()
                await anyio.to_thread.run_sync(postgres.stop)
                await anyio.sleep(4 * LEASE)  # away past the lease: what this test is about
                await anyio.to_thread.run_sync(postgres.start)
        finally:
            if not (postgres.data / "postmaster.pid").exists():
                await anyio.to_thread.run_sync(postgres.start)
        with anyio.fail_after(60):
            await system.wait_idle()
        balances = []
        for ref in refs:
            with anyio.fail_after(30):
                ledger: Ledger = await ref.ask(Balance())
            balances.append(ledger.balance)
        assert balances == acked
        assert list(system.dead_letters) == []
