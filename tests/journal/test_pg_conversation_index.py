"""PostgreSQL's index of conversations leaves out their roots (cluster version 5): each read of
a conversation, by the journal, its cancels and the read model, still finds every message of it,
root first, and through an index, never by reading the whole messages table (J7, C1)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg
import pytest

from actorflow.journal import (
    Batch,
    ConversationFilters,
    Done,
    JournalReader,
    MessageRecord,
    PostgresJournal,
    StepRecord,
)
from actorflow.journal._pg_cluster import CLUSTER_VERSION
from actorflow.journal._pg_dialect import bind, postgres_sql
from actorflow.journal._pg_source import PostgresSource
from actorflow.journal._rows import CONVERSATION_STEPS, CONVERSATION_TURNS, fetch_conversation
from actorflow.journal._statements import cancellable

from .postgres_server import PostgresServer

pytestmark = pytest.mark.anyio


class Plans:
    """Runs each query it is given as the journal would, after planning it on a connection
    that reads no table whole where an index can answer (``enable_seqscan = off``); notes each
    query that reads messages whole, or that asks for a conversation without searching the
    index of conversations for it."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute("SET enable_seqscan = off")
        self.unindexed: list[str] = []
        self.planned = 0

    def rows(self, sqlite_sql: str, params: Sequence[Any]) -> list[Any]:
        query, bound = postgres_sql(sqlite_sql), bind(sqlite_sql, params)
        ((plan,),) = self.conn.execute(f"EXPLAIN (FORMAT JSON) {query}", bound).fetchall()
        nodes = list(_nodes(plan[0]["Plan"]))
        whole = any(
            n["Node Type"] == "Seq Scan" and n["Relation Name"] == "messages" for n in nodes
        )
        searched = any(
            n.get("Index Name") == "messages_conversation" and "conversation =" in n["Index Cond"]
            for n in nodes
        )
        asks = any(
            n.get("Relation Name") == "messages"
            and "conversation =" in " ".join(n.get(c, "") for c in _CONDITIONS)
            for n in nodes
        )
        self.planned += 1
        if whole or (asks and not searched):
            self.unindexed.append(f"{sqlite_sql}\n{plan}")
        return list(self.conn.execute(query, bound).fetchall())

    async def fetch(self, sqlite_sql: str, params: tuple[Any, ...]) -> list[Any]:
        return self.rows(sqlite_sql, params)


_CONDITIONS = ("Index Cond", "Recheck Cond", "Filter")


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


class PlannedSource:
    """The read model's source over `source`, its queries run through `plans`."""

    def __init__(self, source: PostgresSource, plans: Plans) -> None:
        self._source, self._plans = source, plans
        self.name, self.location = source.name, source.location
        self.schema_version = source.schema_version

    def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return self._plans.rows(sql, params)

    def iterate(self, sql: str) -> Iterator[Any]:
        return self._source.iterate(sql)

    def snapshot(self) -> AbstractContextManager[None]:
        return self._source.snapshot()

    def data_version(self) -> int:
        return self._source.data_version()

    def sizes(self) -> tuple[int, int]:
        return self._source.sizes()

    def close(self) -> None:
        self._source.close()


def message(message_id: str, conversation: str | None, cause: str | None = None) -> MessageRecord:
    return MessageRecord(
        id=message_id,
        recipient="a",
        type="Add",
        body=b"\x01",
        conversation=conversation,
        cause=cause,
    )


async def conversations_journal(url: str) -> None:
    """Two conversations (``r1``: a root and its two children, one done with a step;
    ``r2``: a root alone) and a message with no conversation id, ``loose``; before them, 600
    conversations of three handled messages each, so that the planner weighs its choices as
    on a journal in use (analyzed)."""
    journal = PostgresJournal(url)
    await journal.open()
    try:
        older = [
            message(f"o{i}" + (f".{n}" if n else ""), f"o{i}", cause=f"o{i}" if n else None)
            for i in range(600)
            for n in range(3)
        ]
        await journal.write(Batch(appends=older))
        await journal.write(Batch(done=[Done(m.id, "a", None, 1.0) for m in older]))
        await journal.write(
            Batch(
                appends=[
                    message("r1", "r1"),
                    message("r2", "r2"),
                    message("r1.1", "r1", cause="r1"),
                    message("r1.2", "r1", cause="r1"),
                    message("loose", None),
                ]
            )
        )
        await journal.write(
            Batch(
                done=[Done("r1.1", "a", b"state", 1.0)],
                steps=[StepRecord("r1.1", "call", b"result")],
            )
        )
    finally:
        await journal.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE messages")


async def test_j7_every_read_of_a_conversation_finds_it_through_an_index(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    await conversations_journal(url)
    plans = Plans(url)
    try:
        # The journal's own reads (`PostgresJournal.conversation`, `.turns`) and its cancels.
        found = await fetch_conversation(plans.fetch, "r1")
        assert [m.id for m in found] == ["r1", "r1.1", "r1.2"]
        assert [row[0] for row in plans.rows(CONVERSATION_TURNS, ("r1",))] == ["r1.1"]
        assert [row[0] for row in plans.rows(CONVERSATION_STEPS, ("r1",))] == ["r1.1"]
        pending = cancellable(plans.rows, "r1", None)
        assert [m.id for m in pending.messages] == ["r1", "r1.2"]
        assert pending.statuses == {"done": 1, "pending": 2}

        # The read model's (CLI, web UI).
        source = PostgresSource(url)
        reader = JournalReader(PlannedSource(source, plans))
        try:
            assert [m.id for m in reader.conversation("r1.2")] == ["r1", "r1.1", "r1.2"]
            assert [m.id for m in reader.conversation("r2")] == ["r2"]
            assert [m.id for m in reader.conversation("loose")] == ["loose"]
            root = reader.conversation("r1")[0]
            assert [m.id for m in reader.caused_by(root)] == ["r1.1", "r1.2"]
            assert [s.step for s in reader.conversation_steps("r1")] == ["call"]
            newest_first = ["loose", "r2", "r1"]
            for filters, expected in [
                (ConversationFilters(), newest_first),
                (ConversationFilters(status="pending"), newest_first),
                (ConversationFilters(status="done"), ["r1", "o599", "o598"]),
                (ConversationFilters(actor="a"), newest_first),
            ]:
                summaries = reader.conversations(filters, limit=3)
                assert [c.id for c in summaries] == expected, filters
            (r1,) = [
                c for c in reader.conversations(ConversationFilters(), limit=10) if c.id == "r1"
            ]
            assert r1.statuses == {"done": 1, "pending": 2}
        finally:
            source.close()
        assert plans.planned >= 15
        assert plans.unindexed == []
    finally:
        plans.conn.close()


async def test_j7_a_journal_of_cluster_version_4_gets_the_index_without_roots(
    postgres: PostgresServer,
) -> None:
    """Cluster version 5 on a journal made by version 4 (every message indexed by its
    conversation): opened, its index leaves the roots out, and its conversations read as
    before."""
    url = postgres.new_database()
    await conversations_journal(url)
    with psycopg.connect(url, autocommit=True) as conn:  # what version 4 left
        conn.execute("DROP INDEX messages_conversation")
        conn.execute("CREATE INDEX messages_conversation ON messages (conversation, seq)")
        conn.execute("UPDATE actorflow_meta SET value = '4' WHERE key = 'cluster_version'")
    journal = PostgresJournal(url)
    await journal.open()
    try:
        assert [m.id for m in await journal.conversation("r1")] == ["r1", "r1.1", "r1.2"]
    finally:
        await journal.close()
    with psycopg.connect(url, autocommit=True) as conn:
        meta = conn.execute("SELECT value FROM actorflow_meta WHERE key = 'cluster_version'")
        assert meta.fetchall() == [(str(CLUSTER_VERSION),)]
        index = conn.execute(
            "SELECT indexdef FROM pg_indexes"
            " WHERE schemaname = current_schema() AND indexname = 'messages_conversation'"
        ).fetchall()
        assert len(index) == 1
        assert str(index[0][0]).endswith("WHERE (conversation <> id)")
