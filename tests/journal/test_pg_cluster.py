"""Nodes over one PostgreSQL journal, straight at the backend (C2): shards, leases, fencing.

A real server (`postgres_server.py`); several `PostgresJournal`s joined as nodes of one
database stand for several processes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import actorflow as af
from actorflow.journal import Batch, Done, MessageRecord, PostgresJournal, StepRecord, TimerRecord
from actorflow.journal._pg_cluster import CLUSTER_VERSION, DEFAULT_SHARDS, LIVE, shard_of

from .postgres_server import PostgresServer
from .shards import another_node_takes

pytestmark = pytest.mark.anyio


def msg(i: int, recipient: str) -> MessageRecord:
    return MessageRecord(id=f"m{i}", recipient=recipient, type="Add", body=bytes([i % 256]))


def changes() -> tuple[list[int], Callable[[], Awaitable[None]]]:
    seen: list[int] = []

    async def changed() -> None:
        seen.append(1)

    return seen, changed


async def node(url: str, name: str, lease: float = 3.0) -> PostgresJournal:
    journal = PostgresJournal(url, node=name, lease=lease)
    await journal.open()
    _, changed = changes()
    try:
        await journal.join(changed)
    except BaseException:
        await journal.close()
        raise
    return journal


def owned(journal: PostgresJournal) -> int:
    return sum(journal.owns(f"actor-{i}") for i in range(400))


def sql(url: str, statement: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement)  # type: ignore[call-overload]
        return list(cur.fetchall()) if cur.description else []


async def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Poll `condition` (a real signal: the database's shards) until it holds."""
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110  # the database's shards: polled, bounded
            await anyio.sleep(0.05)


@pytest.fixture(scope="module")
def journal_url(postgres: PostgresServer) -> str:
    """A URL of a journal created (its functions and tables there), shared by this module."""
    url = postgres.new_database()

    async def create() -> None:
        journal = PostgresJournal(url)
        await journal.open()
        await journal.close()

    anyio.run(create)
    return url


@settings(max_examples=200, deadline=None)
@given(names=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=20))
def test_c2_the_shard_of_a_name_is_the_same_in_python_and_in_the_database(
    journal_url: str, names: list[str]
) -> None:
    names = [n.replace("\x00", "") or "x" for n in names]  # PostgreSQL text holds no NUL
    with psycopg.connect(journal_url, autocommit=True) as conn:
        cur = conn.execute(
            "SELECT actorflow_shard(n, %s) FROM unnest(%s::text[]) WITH ORDINALITY AS v(n, i)"
            " ORDER BY i",
            (DEFAULT_SHARDS, names),
        )
        in_database = [int(row[0]) for row in cur.fetchall()]
    assert in_database == [shard_of(n, DEFAULT_SHARDS) for n in names]


async def test_c2_a_lone_node_owns_every_actor(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    first = await node(url, "one")
    try:
        assert owned(first) == 400
        rows = sql(url, "SELECT count(*) FROM actorflow_shards WHERE owner = 'one'")
        assert rows == [(DEFAULT_SHARDS,)]
    finally:
        await first.close()
    assert sql(url, "SELECT count(*) FROM actorflow_shards WHERE owner IS NOT NULL") == [(0,)]
    assert sql(url, "SELECT count(*) FROM actorflow_nodes") == [(0,)]


async def test_c2_a_commit_with_a_stale_epoch_is_refused_and_writes_nothing(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    journal = await node(url, "one", lease=30.0)
    try:
        await journal.write(Batch(appends=[msg(1, "x")]))
        # Another, live, node claims x's shard (what a claim after a lapsed lease does).
        another_node_takes(url, "x")
        with pytest.raises(af.OwnershipLost, match="no longer holds shard"):
            await journal.write(
                Batch(
                    appends=[msg(2, "y"), msg(3, "z")],
                    done=[Done("m1", "x", b"state", 1.0)],
                    steps=[StepRecord("m1", "llm", b"result")],
                )
            )
        assert [m.id for m in await journal.pending()] == ["m1"]  # none of the batch landed
        assert await journal.steps("m1") == {}
        assert journal.fenced == 1
        # The refusal made the node look at its shards before it raised: it knows it lost x.
        assert not journal.owns("x")
        # Claiming, recording a step, or timers for x are refused just the same.
        for batch in (
            Batch(claims=["m1"]),
            Batch(steps=[StepRecord("m1", "llm", b"result")]),
            Batch(timers=[TimerRecord(msg(9, "x"), 5.0)]),
        ):
            with pytest.raises(af.OwnershipLost):
                await journal.write(batch)
        assert journal.fenced == 4
        # Appends to x need no ownership now that the node knows it lost x (the sender commits
        # them, with a notice for the owner: C4).
        (seq,) = await journal.write(Batch(appends=[msg(4, "x")]))
        assert seq is not None
    finally:
        await journal.close()


async def test_c2_a_commit_after_the_lease_lapsed_and_the_shard_was_taken_is_refused(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    journal = await node(url, "one", lease=60.0)
    try:
        await journal.write(Batch(appends=[msg(1, "x")]))
        # Its lease lapses (a pause), and a live node takes x's shard meanwhile.
        sql(url, "UPDATE actorflow_nodes SET renewed_at = clock_timestamp() - interval '2 min'")
        another_node_takes(url, "x")
        with pytest.raises(af.OwnershipLost, match="no live lease"):
            await journal.write(Batch(done=[Done("m1", "x", b"state", 1.0)]))
        assert [m.id for m in await journal.pending()] == ["m1"]
        assert journal.fenced == 1
        assert not journal.owns("x")
    finally:
        await journal.close()


async def test_c2_a_lapsed_lease_that_nobody_took_over_is_renewed_and_the_commit_lands(
    postgres: PostgresServer,
) -> None:
    """What a server restart longer than the lease leaves: no other node, nothing lost."""
    url = postgres.new_database()
    journal = await node(url, "one", lease=60.0)
    try:
        await journal.write(Batch(appends=[msg(1, "x")]))
        sql(url, "UPDATE actorflow_nodes SET renewed_at = clock_timestamp() - interval '2 min'")
        await journal.write(Batch(done=[Done("m1", "x", b"state", 1.0)]))
        assert await journal.pending() == []
        assert journal.fenced == 0
        rows = sql(url, f"SELECT {LIVE} FROM actorflow_nodes WHERE node = 'one'")
        assert rows == [(True,)]
    finally:
        await journal.close()


async def test_c2_a_live_name_is_refused(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    first = await node(url, "same")
    try:
        with pytest.raises(af.NodeNameTaken, match="'same' is held by a live node"):
            await node(url, "same")
    finally:
        await first.close()


async def test_c2_nodes_that_join_take_a_fair_share_and_a_leaving_node_hands_over(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    lease = 0.9  # rounds every 0.3 s: the rebalancing is quick to watch
    first = await node(url, "one", lease)
    second = await node(url, "two", lease)
    third = None
    try:

        def counts() -> list[int]:
            rows = sql(
                url,
                "SELECT count(*) FILTER (WHERE owner = 'one'), count(*) FILTER (WHERE owner ="
                " 'two'), count(*) FILTER (WHERE owner = 'three') FROM actorflow_shards",
            )
            return [int(c) for c in rows[0]]  # type: ignore[call-overload]

        await until(lambda: counts() == [32, 32, 0])
        await until(lambda: owned(first) + owned(second) == 400)
        third = await node(url, "three", lease)
        await until(lambda: max(counts()) <= 22 and sum(counts()) == 64)
        await until(lambda: owned(first) + owned(second) + owned(third) == 400)
        for journal in (first, second, third):
            assert owned(journal) > 0
        await second.close()
        await until(lambda: counts()[0] + counts()[2] == 64)
        await until(lambda: owned(first) + owned(third) == 400)
    finally:
        for journal in (first, second, third):
            if journal is not None:
                await journal.close()


async def test_c2_a_journal_of_cluster_version_2_migrates_and_its_fence_still_refuses(
    postgres: PostgresServer,
) -> None:
    """Cluster version 3 (the fence given shards, not names) on a journal made by version 2:
    opened, it gains the new fence, which refuses a stale epoch as the old one did."""
    url = postgres.new_database()
    created = PostgresJournal(url)
    await created.open()
    await created.close()
    sql(url, "DROP FUNCTION actorflow_fence_shards")  # what version 2 left
    sql(url, "DROP FUNCTION actorflow_follow")
    sql(url, "ALTER TABLE actors RESET (fillfactor)")
    sql(url, "UPDATE actorflow_meta SET value = '2' WHERE key = 'cluster_version'")
    journal = await node(url, "one", lease=30.0)
    try:
        assert sql(url, "SELECT value FROM actorflow_meta WHERE key = 'cluster_version'") == [
            (str(CLUSTER_VERSION),)
        ]
        await journal.write(Batch(appends=[msg(1, "x")]))
        another_node_takes(url, "x")
        with pytest.raises(af.OwnershipLost, match="no longer holds shard"):
            await journal.write(Batch(done=[Done("m1", "x", b"state", 1.0)]))
        assert [m.id for m in await journal.pending()] == ["m1"]
    finally:
        await journal.close()


async def test_c2_a_shard_lost_while_paused_is_not_claimed_back_before_the_system_is_told(
    postgres: PostgresServer,
) -> None:
    """A node paused past its lease whose shard was taken, the taker dead since: the node
    must see the loss (its actors stop, J3) before it claims the shard back, else its actors
    would commit what they held before the loss at the new epoch, past the fence."""
    url = postgres.new_database()
    journal = PostgresJournal(url, node="one", lease=3.0)
    await journal.open()
    owned_when_told: list[bool] = []

    async def changed() -> None:
        owned_when_told.append(journal.owns("x"))

    try:
        await journal.join(changed)
        await journal.write(Batch(appends=[msg(1, "x")]))
        assert journal.owns("x")
        # In one go: its lease lapsed (the pause), node two took x's shard and then died.
        sql(
            url,
            "BEGIN;"
            " UPDATE actorflow_nodes SET renewed_at = clock_timestamp() - interval '2 min';"
            " INSERT INTO actorflow_nodes VALUES ('two', 'i', 'h', 1,"
            " clock_timestamp() - interval '1 min', clock_timestamp() - interval '1 min', 3);"
            " UPDATE actorflow_shards SET owner = 'two', epoch = epoch + 1"
            f" WHERE shard = {shard_of('x', DEFAULT_SHARDS)};"
            " COMMIT",
        )
        await until(lambda: bool(owned_when_told))
        assert owned_when_told[0] is False  # told of the loss while not owning it
        await until(lambda: len(owned_when_told) >= 2)  # claimed back afterwards, told again
        assert journal.owns("x")
    finally:
        await journal.close()
