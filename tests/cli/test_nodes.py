"""``actorflow journal nodes`` on a real PostgreSQL journal (C2, U1): golden tables at 80 and
200 columns, ``--json``, a running node seen live, and its bad input as one line.

The golden journal has fixed nodes (their rows written straight into the tables, times fixed;
a renewal in 2100 stands for a live lease), so the output does not depend on the clock. To
regenerate: ``ACTORFLOW_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/cli/test_nodes.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import psycopg
import pytest

from actorflow.cli._output import WIDTH_VARIABLE
from actorflow.journal import ActorRecord, Batch, PostgresJournal
from actorflow.journal._pg_cluster import DEFAULT_SHARDS, shard_of

from ..journal.postgres_server import PostgresServer
from .support import assert_one_error_line, cli

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("ACTORFLOW_REGENERATE_GOLDEN") == "1"
ACTORS = [f"agent-{i}" for i in range(6)]


@pytest.fixture(scope="module")
def journal(postgres: PostgresServer) -> str:
    """A journal with two nodes (one live, one whose lease lapsed) and six actors."""
    url = postgres.new_database()

    async def create() -> None:
        backend = PostgresJournal(url)
        await backend.open()
        try:
            await backend.write(
                Batch(actors=[ActorRecord(name, "demo.Agent", b"\x90") for name in ACTORS])
            )
        finally:
            await backend.close()

    anyio.run(create)
    half = DEFAULT_SHARDS // 2
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO actorflow_nodes VALUES"
            " ('worker-a', 'i1', 'host-1', 4101, '2026-12-01 09:00:00+00',"
            " '2100-01-01 00:00:00+00', 3),"
            " ('worker-b', 'i2', 'host-2', 4202, '2026-12-01 09:00:05+00',"
            " '2026-12-01 09:30:00+00', 3)"
        )
        conn.execute(f"UPDATE actorflow_shards SET owner = 'worker-a' WHERE shard < {half}")
        conn.execute(f"UPDATE actorflow_shards SET owner = 'worker-b' WHERE shard >= {half}")
    return url


def check(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: regenerate with ACTORFLOW_REGENERATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{path} differs (see this module's doc)"


@pytest.mark.parametrize("width", [80, 200])
def test_u1_journal_nodes_table(journal: str, width: int) -> None:
    result = cli(["journal", "nodes", "--journal", journal], env={WIDTH_VARIABLE: str(width)})
    assert result.exit_code == 0, result.output
    check(f"nodes-{width}", result.stdout)


def test_u1_journal_nodes_json(journal: str) -> None:
    result = cli(["journal", "nodes", "--journal", journal, "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["node"], r["lease"], r["pid"]) for r in rows] == [
        ("worker-a", "live", 4101),
        ("worker-b", "lapsed", 4202),
    ]
    assert rows[0]["renewed_at"] == "2100-01-01T00:00:00.000000Z"
    assert rows[0]["shards"] == list(range(DEFAULT_SHARDS // 2))
    owned_by_a = sum(shard_of(a, DEFAULT_SHARDS) < DEFAULT_SHARDS // 2 for a in ACTORS)
    assert [r["actors"] for r in rows] == [owned_by_a, len(ACTORS) - owned_by_a]


@pytest.mark.anyio
async def test_u1_journal_nodes_shows_a_running_node_live(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    backend = PostgresJournal(url, node="running-node")
    await backend.open()

    async def changed() -> None:
        pass

    try:
        await backend.join(changed)
        result = cli(["journal", "nodes", "--journal", url, "--json"])
        assert result.exit_code == 0, result.output
        (row,) = [json.loads(line) for line in result.stdout.splitlines()]
        assert (row["node"], row["lease"], row["pid"]) == ("running-node", "live", os.getpid())
        assert len(row["shards"]) == DEFAULT_SHARDS
    finally:
        await backend.close()
    result = cli(["journal", "nodes", "--journal", url])
    assert result.stdout == "no nodes: no system runs on this journal\n"


def test_p3_journal_nodes_on_a_sqlite_file_or_a_foreign_database_is_one_line(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    result = cli(["journal", "nodes", "--journal", str(tmp_path / "j.db")])
    assert_one_error_line(result, 1, "a SQLite journal, which has one node")
    empty = postgres.new_database()
    assert_one_error_line(
        cli(["journal", "nodes", "--journal", empty]), 1, "holds no actorflow journal"
    )
