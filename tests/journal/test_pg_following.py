"""Two commits on their way at once (J2, J3; `PipelinedWrites`): a commit sent while the one
before it lands waits for it at the server, and lands only if that one did.

The commits are held at the server for real: another connection locks the writer's row in
``actorflow_writers`` (as a slow commit before them would), so both of the journal's writer
connections are seen waiting there before anything is let go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import anyio
import psycopg
import pytest

import actorflow as af
from actorflow.journal import (
    Batch,
    CommitNotFollowed,
    Done,
    MessageRecord,
    PipelinedWrites,
    PostgresJournal,
)

from .postgres_server import PostgresServer
from .shards import another_node_takes
from .test_pg_cluster import msg, node, sql

pytestmark = pytest.mark.anyio


class WriterRowHeld:
    """The journal writer's row locked from another connection, in a transaction that
    `release` commits (landing whatever the test did in it too)."""

    def __init__(self, url: str, writer: str) -> None:
        self.conn = psycopg.connect(url)
        self.conn.execute("SELECT 1 FROM actorflow_writers WHERE writer = %s FOR UPDATE", (writer,))

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.commit()
            self.conn.close()


@contextmanager
def writer_row_held(url: str, writer: str) -> Iterator[WriterRowHeld]:
    held = WriterRowHeld(url, writer)
    try:
        yield held
    finally:
        held.release()


def waiting_commits(url: str) -> int:
    """How many commits wait at the server on the writer's row (`actorflow_follow`)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND query LIKE '%actorflow_follow%'"
        ).fetchone()
    return int(row[0]) if row else 0


async def until(condition: Callable[[], bool]) -> None:
    """Poll `condition` (the server's own view of who waits on a lock) until it holds."""
    with anyio.fail_after(20):
        while not condition():  # noqa: ASYNC110  # the server's lock waits: polled, bounded
            await anyio.sleep(0.02)


async def journal_of(url: str) -> PostgresJournal:
    journal = PostgresJournal(url)
    await journal.open()
    return journal


class Outcomes:
    """What each of two writes returned or raised."""

    def __init__(self) -> None:
        self.seqs: dict[str, list[int | None]] = {}
        self.errors: dict[str, Exception] = {}

    async def run(self, name: str, write: Callable[[Batch], object], batch: Batch) -> None:
        try:
            self.seqs[name] = await write(batch)  # type: ignore[misc]
        except af.JournalError as exc:
            self.errors[name] = exc


async def two_on_their_way(
    url: str, journal: PostgresJournal, first: Batch, second: Batch, meanwhile: Callable[[], None]
) -> Outcomes:
    """Send `first`, then `second` following it, both held at the server; `meanwhile` runs
    once both wait there (with the writer's row still held), then the row is let go."""
    outcomes = Outcomes()
    (writer,) = sql(url, "SELECT writer FROM actorflow_writers")[0]  # this journal's alone
    with writer_row_held(url, str(writer)) as held:
        async with anyio.create_task_group() as tg:
            tg.start_soon(outcomes.run, "first", journal.write, first)
            await until(lambda: waiting_commits(url) == 1)
            tg.start_soon(outcomes.run, "second", journal.write_following, second)
            await until(lambda: waiting_commits(url) == 2)
            meanwhile()
            held.release()
    return outcomes


async def test_j2_a_commit_sent_while_one_is_on_its_way_lands_after_it(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    journal = await journal_of(url)
    assert isinstance(journal, PipelinedWrites)
    try:
        await journal.write(Batch(appends=[msg(0, "x")]))  # both writer connections are made
        await journal.write(Batch(appends=[msg(1, "x")]))
        landed: list[list[str]] = []

        def look() -> None:  # both wait at the server: nothing of either has landed
            landed.append([row[0] for row in sql(url, "SELECT id FROM messages ORDER BY seq")])

        outcomes = await two_on_their_way(
            url,
            journal,
            Batch(appends=[msg(2, "x"), msg(3, "x")]),
            Batch(appends=[msg(4, "x")], done=[Done("m0", "x", b"s", 1.0)]),
            look,
        )
        assert landed == [["m0", "m1"]]
        assert outcomes.errors == {}
        first, second = outcomes.seqs["first"], outcomes.seqs["second"]
        assert None not in first
        assert None not in second
        assert first[0] < first[1] < second[0]  # the second's appends after the first's
        assert [m.id for m in await journal.pending()] == ["m1", "m2", "m3", "m4"]
    finally:
        await journal.close()


async def test_j3_a_commit_that_follows_one_the_server_refused_writes_nothing(
    postgres: PostgresServer,
) -> None:
    """The first commit fails at the server (a text it cannot store): the one that followed
    it writes nothing, says so, and lands when sent again as it is."""
    url = postgres.new_database()
    journal = await journal_of(url)
    try:
        await journal.write(Batch(appends=[msg(0, "x")]))
        await journal.write(Batch(appends=[msg(1, "x")]))
        bad = MessageRecord(id="m\x00", recipient="x", type="Add", body=b"")
        outcomes = await two_on_their_way(
            url,
            journal,
            Batch(appends=[msg(2, "x"), bad]),
            Batch(appends=[msg(3, "x")], done=[Done("m0", "x", b"x-state", 1.0)]),
            lambda: None,
        )
        assert not isinstance(outcomes.errors["first"], CommitNotFollowed)
        assert isinstance(outcomes.errors["second"], CommitNotFollowed)
        assert "did not land" in str(outcomes.errors["second"])
        assert [m.id for m in await journal.pending()] == ["m0", "m1"]
        again = Batch(appends=[msg(3, "x")], done=[Done("m0", "x", b"x-state", 1.0)])
        assert await journal.write(again) != [None]
        assert [m.id for m in await journal.pending()] == ["m1", "m3"]
    finally:
        await journal.close()


async def test_c2_a_commit_that_follows_one_fenced_off_writes_nothing(
    postgres: PostgresServer,
) -> None:
    """The first commit is refused at the server (its node lost the actor's shard while both
    waited, C2): the one that followed it writes nothing, and says so."""
    url = postgres.new_database()
    journal = await node(url, "one", lease=30.0)
    try:
        await journal.write(Batch(appends=[msg(0, "x"), msg(1, "y")]))
        await journal.write(Batch(appends=[msg(2, "y")]))
        outcomes = await two_on_their_way(
            url,
            journal,
            Batch(done=[Done("m0", "x", b"x-state", 1.0)]),
            Batch(appends=[msg(3, "y")], done=[Done("m1", "y", b"y-state", 1.0)]),
            lambda: another_node_takes(url, "x"),
        )
        assert isinstance(outcomes.errors["first"], af.OwnershipLost)
        assert isinstance(outcomes.errors["second"], CommitNotFollowed)
        assert "did not land" in str(outcomes.errors["second"])
        # Nothing of either: m0 and m1 still pending, no m3.
        assert [m.id for m in await journal.pending()] == ["m0", "m1", "m2"]
    finally:
        await journal.close()


async def test_j2_a_following_commit_whose_answer_is_lost_is_told_committed(
    postgres: PostgresServer,
) -> None:
    """The numbers the commits follow are those of the journal's own calls, kept across a
    reconnection: a follow-up commit sent after one whose connection was lost still lands."""
    url = postgres.new_database()
    journal = await journal_of(url)
    try:
        await journal.write(Batch(appends=[msg(0, "x")]))
        sql(
            url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE pid <> pg_backend_pid() AND query NOT LIKE '%pg_stat_activity%'"
            " AND backend_type = 'client backend' AND datname = current_database()",
        )
        assert await journal.write_following(Batch(appends=[msg(1, "x")])) != [None]
        assert await journal.write_following(Batch(appends=[msg(2, "x")])) != [None]
        assert [m.id for m in await journal.pending()] == ["m0", "m1", "m2"]
    finally:
        await journal.close()


async def test_j2_a_commit_that_follows_nothing_waits_for_one_whose_answer_is_lost(
    postgres: PostgresServer,
) -> None:
    """A follower's connection dies while it waits at the server, so whether it landed is
    unknown until it reconnects and reads the writer's last commit number. A commit that
    follows nothing, called meanwhile, goes only once that one has ended: had it landed first,
    its later number would have told the lost one "landed", and its done-mark would have been
    acknowledged but never written."""
    url = postgres.new_database()
    journal = await journal_of(url)
    try:
        await journal.write(Batch(appends=[msg(0, "x")]))
        await journal.write(Batch(appends=[msg(1, "x")]))
        holder = psycopg.connect(url)  # holds m0's row: the follower's done-mark waits on it
        holder.execute("SELECT 1 FROM messages WHERE id = 'm0' FOR UPDATE")
        outcomes = Outcomes()
        async with anyio.create_task_group() as tg:
            follower = Batch(done=[Done("m0", "x", b"s", 1.0)])
            tg.start_soon(outcomes.run, "follower", journal.write_following, follower)
            await until(lambda: waiting_done_marks(url) == 1)
            tg.start_soon(outcomes.run, "alone", journal.write, Batch(appends=[msg(2, "x")]))
            await anyio.wait_all_tasks_blocked()
            sql(
                url,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                f" WHERE {_DONE_MARK_WAITING} AND pid <> pg_backend_pid()",
            )
            holder.rollback()
            holder.close()
        assert outcomes.errors == {}
        assert outcomes.seqs["follower"] == []
        assert [m.id for m in await journal.pending()] == ["m1", "m2"]  # m0's done-mark landed
    finally:
        await journal.close()


_DONE_MARK_WAITING = (
    "wait_event_type = 'Lock' AND query LIKE 'UPDATE messages SET status = ''done''%'"
)


def waiting_done_marks(url: str) -> int:
    """How many done-marks wait at the server on a message's row."""
    return int(sql(url, f"SELECT count(*) FROM pg_stat_activity WHERE {_DONE_MARK_WAITING}")[0][0])
