"""The journal's PostgreSQL schema: the same tables, versions and rules as SQLite's (J8, J12).

`SCHEMA_VERSION` is shared with SQLite: version N means the same records in either engine, and
each version's migration here matches the SQLite one of the same number.

Room left for running on several nodes (not built yet): every running system has a row in
``actorflow_writers``, where a node's lease, owner and fencing epoch belong.
"""

from __future__ import annotations

from typing import Final

from ._schema import SCHEMA_VERSION

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

# MIGRATIONS[v] takes a journal from version v - 1 to version v, in one transaction.
MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {
    1: (
        "CREATE TABLE actorflow_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """
        CREATE TABLE actors (
            name TEXT PRIMARY KEY,
            number BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
            kind TEXT NOT NULL,
            args BYTEA NOT NULL,
            options BYTEA NOT NULL,
            state BYTEA,
            supervisor TEXT,
            handled BIGINT NOT NULL DEFAULT 0,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        )
        """,
        """
        CREATE TABLE messages (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            recipient TEXT NOT NULL,
            sender TEXT,
            type TEXT NOT NULL,
            body BYTEA NOT NULL,
            conversation TEXT,
            cause TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'done', 'dead')),
            error TEXT,
            traceback TEXT,
            done_at DOUBLE PRECISION
        )
        """,
        "CREATE INDEX messages_pending ON messages (recipient, seq) WHERE status = 'pending'",
        "CREATE INDEX messages_dead ON messages (seq) WHERE status = 'dead'",
        "CREATE INDEX messages_conversation ON messages (conversation, seq)",
    ),
    2: (
        "ALTER TABLE messages ADD COLUMN trace TEXT",
        """
        CREATE TABLE steps (
            message_id TEXT NOT NULL,
            step TEXT NOT NULL,
            result BYTEA NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (message_id, step)
        )
        """,
        """
        CREATE TABLE timers (
            id TEXT PRIMARY KEY,
            recipient TEXT NOT NULL,
            sender TEXT,
            type TEXT NOT NULL,
            body BYTEA NOT NULL,
            conversation TEXT,
            cause TEXT,
            trace TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            due_at DOUBLE PRECISION NOT NULL
        )
        """,
        "CREATE INDEX timers_due ON timers (due_at)",
        """
        CREATE TABLE notices (
            number BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            message_id TEXT NOT NULL
        )
        """,
        "CREATE INDEX messages_done ON messages (done_at) WHERE status = 'done'",
        # One row per open PostgresJournal: the number of its last commit, so that a commit
        # whose answer was lost with the connection can be told committed or not.
        """
        CREATE TABLE actorflow_writers (
            writer TEXT PRIMARY KEY,
            opened_at DOUBLE PRECISION NOT NULL,
            last_commit BIGINT NOT NULL DEFAULT 0
        )
        """,
    ),
    # R1, R2 (replay), as SQLite's 3: each handled message's turn (msgpack [state before,
    # state after, reply]; NULL when not recorded), each step's arguments digest and place
    # among the message's steps, and the conversations that compaction keeps whole (their
    # order of pinning kept by `number`, as SQLite's by when).
    3: (
        "ALTER TABLE messages ADD COLUMN turn BYTEA",
        "ALTER TABLE steps ADD COLUMN args BYTEA",
        "ALTER TABLE steps ADD COLUMN position BIGINT NOT NULL DEFAULT 0",
        """
        CREATE TABLE pins (
            conversation TEXT PRIMARY KEY,
            number BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
            pinned_at DOUBLE PRECISION NOT NULL
        )
        """,
    ),
    # Cancelled messages (`actorflow journal cancel`), as SQLite's 4: status 'cancelled', who
    # and when; compacted like done messages (J10) through their own index.
    4: (
        "ALTER TABLE messages ADD COLUMN cancelled_at DOUBLE PRECISION",
        "ALTER TABLE messages ADD COLUMN cancelled_by TEXT",
        "ALTER TABLE messages DROP CONSTRAINT messages_status_check",
        "ALTER TABLE messages ADD CONSTRAINT messages_status_check"
        " CHECK (status IN ('pending', 'done', 'dead', 'cancelled'))",
        "CREATE INDEX messages_cancelled ON messages (cancelled_at) WHERE status = 'cancelled'",
    ),
}

if set(MIGRATIONS) != set(range(1, SCHEMA_VERSION + 1)):  # pragma: no cover - a release bug
    raise AssertionError("the PostgreSQL migrations do not reach SCHEMA_VERSION")
