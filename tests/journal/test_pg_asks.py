"""The journal's side of an ask across nodes on PostgreSQL (C4), straight at the backend: a
reply is written with its turn's done-mark, only for a registered ask (J3: it exists iff the
turn committed), and nothing is left once taken, forgotten or expired.

A real server (`postgres_server.py`); the systems' side is `tests/test_c4_ask_across_nodes.py`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
import psycopg
import pytest

import actorflow as af
from actorflow.journal import (
    AskChannel,
    Batch,
    Done,
    Failed,
    MemoryJournal,
    MessageRecord,
    PostgresJournal,
    Reply,
    SQLiteJournal,
    compact_before,
)

from .cutting_proxy import cutting_proxy
from .postgres_server import PostgresServer
from .shards import another_node_takes

pytestmark = pytest.mark.anyio


def msg(message_id: str, recipient: str = "x") -> MessageRecord:
    return MessageRecord(id=message_id, recipient=recipient, type="Add", body=b"\x01")


def count(url: str, table: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[call-overload]
    assert row is not None
    return int(row[0])


def sql(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[call-overload]


async def nothing_changed() -> None:
    return None


@pytest.fixture
async def joined(postgres: PostgresServer) -> AsyncIterator[tuple[str, PostgresJournal]]:
    url = postgres.new_database()
    journal = PostgresJournal(url, node="one", lease=30.0)
    await journal.open()

    try:
        await journal.join(nothing_changed)
        yield url, journal
    finally:
        await journal.close()


def test_c4_only_a_backend_of_several_nodes_carries_asks(tmp_path: object) -> None:
    assert not isinstance(MemoryJournal(), AskChannel)
    assert not isinstance(SQLiteJournal(f"{tmp_path}/j.db"), AskChannel)
    assert issubclass(PostgresJournal, AskChannel)


async def test_c4_the_reply_of_a_registered_ask_commits_with_its_done_mark_and_is_taken_once(
    joined: tuple[str, PostgresJournal],
) -> None:
    url, journal = joined
    await journal.ask_out("ask-1", 30.0)
    await journal.write(Batch(appends=[msg("ask-1"), msg("ask-2")]))
    assert await journal.answers(["ask-1"]) == []  # pending: no answer yet
    reply = Reply("builtins.int", b"\x07")
    await journal.write(
        Batch(
            done=[
                Done("ask-1", "x", None, time.time(), answer=reply),
                # Not registered (nobody asks, or its asker gave up): no reply row.
                Done("ask-2", "x", None, time.time(), answer=reply),
            ]
        )
    )
    assert count(url, "actorflow_replies") == 1
    (answer,) = await journal.answers(["ask-1", "ask-2"])
    assert (answer.message_id, answer.status, answer.reply) == ("ask-1", "done", reply)
    assert (count(url, "actorflow_asks"), count(url, "actorflow_replies")) == (0, 0)
    assert await journal.answers(["ask-1"]) == []  # taken once


async def test_c4_an_answer_cut_off_on_its_way_is_read_again_then_deleted(
    postgres: PostgresServer,
) -> None:
    """The connection goes after the server has committed the read of the answers, before its
    answer arrives: the read, tried again, finds the reply still there (a read that deleted
    what it read would have lost it, and its asker would have timed out)."""
    url = postgres.new_database()
    async with cutting_proxy(postgres, url) as proxy:
        journal = PostgresJournal(proxy.url, node="one", lease=30.0)
        await journal.open()
        try:
            await journal.join(nothing_changed)
            await journal.ask_out("ask-cut", 30.0)
            await journal.write(Batch(appends=[msg("ask-cut")]))
            reply = Reply("builtins.int", b"\x07")
            await journal.write(Batch(done=[Done("ask-cut", "x", None, time.time(), answer=reply)]))
            proxy.cut_after(b"LEFT JOIN actorflow_replies", b"COMMIT")  # after the commit
            (answer,) = await journal.answers(["ask-cut"])
            assert proxy.cuts == 1
            assert (answer.message_id, answer.status, answer.reply) == ("ask-cut", "done", reply)
            assert (count(url, "actorflow_asks"), count(url, "actorflow_replies")) == (0, 0)
        finally:
            await journal.close()


async def test_c4_a_refused_commit_writes_no_reply(joined: tuple[str, PostgresJournal]) -> None:
    url, journal = joined
    await journal.ask_out("ask-f", 30.0)
    await journal.write(Batch(appends=[msg("ask-f")]))
    another_node_takes(url, "x")
    with pytest.raises(af.OwnershipLost):
        await journal.write(
            Batch(done=[Done("ask-f", "x", None, time.time(), answer=Reply("t", b"\xc0"))])
        )
    assert count(url, "actorflow_replies") == 0
    assert await journal.answers(["ask-f"]) == []


async def test_c4_a_dead_letter_or_a_cancel_is_the_answer(
    joined: tuple[str, PostgresJournal],
) -> None:
    url, journal = joined
    for message_id in ("ask-dead", "ask-retried", "ask-cancelled"):
        await journal.ask_out(message_id, 30.0)
    await journal.write(Batch(appends=[msg("ask-dead"), msg("ask-retried"), msg("ask-cancelled")]))
    await journal.write(
        Batch(
            failed=[
                Failed("ask-dead", 1, "ValueError: bad", "Traceback ...", True),
                Failed("ask-retried", 1, "ValueError: once", None, False),  # tried again
            ]
        )
    )
    sql(
        url,
        "UPDATE messages SET status = 'cancelled', cancelled_by = 'ops' WHERE id = 'ask-cancelled'",
    )
    answers = {
        a.message_id: a for a in await journal.answers(["ask-dead", "ask-retried", "ask-cancelled"])
    }
    assert set(answers) == {"ask-dead", "ask-cancelled"}
    dead = answers["ask-dead"]
    assert (dead.status, dead.error, dead.traceback, dead.reply) == (
        "dead",
        "ValueError: bad",
        "Traceback ...",
        None,
    )
    assert (answers["ask-cancelled"].status, answers["ask-cancelled"].cancelled_by) == (
        "cancelled",
        "ops",
    )
    assert count(url, "actorflow_asks") == 1  # the retried one still waits


async def test_c4_asks_forgotten_or_expired_are_deleted_with_their_replies(
    joined: tuple[str, PostgresJournal],
) -> None:
    url, journal = joined
    for message_id in ("ask-a", "ask-b"):
        await journal.ask_out(message_id, 30.0)
    await journal.write(Batch(appends=[msg("ask-a"), msg("ask-b")]))
    await journal.write(
        Batch(
            done=[
                Done(m, "x", None, time.time(), answer=Reply("builtins.int", b"\x01"))
                for m in ("ask-a", "ask-b")
            ]
        )
    )
    await journal.forget_asks(["ask-a"])  # its asker timed out
    assert (count(url, "actorflow_asks"), count(url, "actorflow_replies")) == (1, 1)
    # An asker that died: its ask expires, and compaction (or any node's next ask) deletes it.
    sql(url, "UPDATE actorflow_asks SET expires_at = clock_timestamp() - interval '1 s'")
    sql(url, "UPDATE actorflow_replies SET expires_at = clock_timestamp() - interval '1 s'")
    await journal.compact(0.0)
    assert (count(url, "actorflow_asks"), count(url, "actorflow_replies")) == (0, 0)
    # Compacting from outside (`actorflow journal compact`) deletes them too.
    await journal.ask_out("ask-c", 30.0)
    sql(url, "UPDATE actorflow_asks SET expires_at = clock_timestamp() - interval '1 s'")
    assert count(url, "actorflow_asks") == 1
    await anyio.to_thread.run_sync(compact_before, url, 0.0)
    assert count(url, "actorflow_asks") == 0


async def test_c4_only_a_node_registers_asks(postgres: PostgresServer) -> None:
    journal = PostgresJournal(postgres.new_database())
    await journal.open()
    try:
        with pytest.raises(af.JournalError, match="only a node can ask across nodes"):
            await journal.ask_out("ask-1", 1.0)
    finally:
        await journal.close()
