"""A PostgreSQL server restarted under load (J2, J9): nothing is acknowledged that did not
commit, and the system carries on once the server is back (the journal reconnects and retries).
"""

from __future__ import annotations

import anyio
import anyio.to_thread
import pytest

import actorflow as af
from actorflow.journal import PostgresJournal

from ..durable_support import Account, Balance, Deposit, Ledger
from .postgres_server import PostgresServer

pytestmark = pytest.mark.anyio

SENDERS = 4
AFTER_RESTART = 25  # tells each sender makes once the server is back


@pytest.mark.timeout(120)
async def test_j2_a_server_restarted_under_load_loses_no_acknowledged_tell(
    postgres: PostgresServer,
) -> None:
    server = postgres
    url = server.new_database()
    acknowledged: list[str] = []
    failed: list[str] = []
    started = anyio.Event()
    restarted = anyio.Event()
    async with af.ActorSystem(journal=PostgresJournal(url)) as system:
        ref = await system.spawn(Account, "ann", name="acct")

        async def sender(number: int) -> None:
            sent_since = 0
            for i in range(5000):  # bounded, whatever happens
                message_id = f"s{number}-{i}"
                try:
                    await ref.tell(Deposit(1), id=message_id)
                except af.JournalError:
                    failed.append(message_id)
                else:
                    acknowledged.append(message_id)
                if len(acknowledged) >= 50:
                    started.set()
                if restarted.is_set():
                    sent_since += 1
                    if sent_since >= AFTER_RESTART:
                        return

        async def restart() -> None:
            await started.wait()
            await anyio.to_thread.run_sync(server.restart)  # kills every connection
            restarted.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(restart)
            for number in range(SENDERS):
                tg.start_soon(sender, number)
        # Carried on: every tell was acknowledged, and every one is handled exactly once.
        assert failed == []
        # The ask queues behind every deposit that was acknowledged (mailbox order).
        assert (await ref.ask(Balance(), expect=Ledger)).balance == len(acknowledged)
    # Everything acknowledged is in the journal, handled.
    journal = PostgresJournal(url)
    await journal.open()
    try:
        for message_id in acknowledged:
            record = await journal.message(message_id)
            assert record is not None, message_id
            assert record.status == "done", message_id
    finally:
        await journal.close()
