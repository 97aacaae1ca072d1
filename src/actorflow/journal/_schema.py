"""The journal's SQLite schema, its version, and the migrations that reach it (J8)."""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

SCHEMA_VERSION = 4
"""The version this actorflow writes; a journal with a higher one is refused."""

# MIGRATIONS[v] takes a journal from version v - 1 to version v, in one transaction.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """
        CREATE TABLE actorflow_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE actors (
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            args BLOB NOT NULL,
            options BLOB NOT NULL,
            state BLOB,
            supervisor TEXT,
            handled INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )
        """,
        """
        CREATE TABLE messages (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            recipient TEXT NOT NULL,
            sender TEXT,
            type TEXT NOT NULL,
            body BLOB NOT NULL,
            conversation TEXT,
            cause TEXT,
            created_at REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'pending',
            error TEXT,
            traceback TEXT,
            done_at REAL
        )
        """,
        # Recovery and the mailbox read pending messages per actor in order: a partial index
        # keeps that fast however many done messages the journal holds.
        "CREATE INDEX messages_pending ON messages (recipient, seq) WHERE status = 'pending'",
        "CREATE INDEX messages_dead ON messages (seq) WHERE status = 'dead'",
        "CREATE INDEX messages_conversation ON messages (conversation, seq)",
    ),
    2: (
        # O1: the sending span's traceparent, so that a conversation is one trace.
        "ALTER TABLE messages ADD COLUMN trace TEXT",
        # J4: step results by message; gone with their message when it is compacted.
        """
        CREATE TABLE steps (
            message_id TEXT NOT NULL,
            step TEXT NOT NULL,
            result BLOB NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (message_id, step)
        ) WITHOUT ROWID
        """,
        # J6: a timer is its message-to-be and when it is due.
        """
        CREATE TABLE timers (
            id TEXT PRIMARY KEY,
            recipient TEXT NOT NULL,
            sender TEXT,
            type TEXT NOT NULL,
            body BLOB NOT NULL,
            conversation TEXT,
            cause TEXT,
            trace TEXT,
            created_at REAL NOT NULL,
            due_at REAL NOT NULL
        )
        """,
        "CREATE INDEX timers_due ON timers (due_at)",
        # J11: messages appended (or re-queued) by another process, for the running system to
        # pick up; it deletes each notice as it takes the message in.
        """
        CREATE TABLE notices (
            number INTEGER PRIMARY KEY,
            message_id TEXT NOT NULL
        )
        """,
        # J10: compaction finds old done messages without reading the pending ones.
        "CREATE INDEX messages_done ON messages (done_at) WHERE status = 'done'",
    ),
    # R1, R2 (replay): each handled message's turn (msgpack [state before, state after,
    # reply]; NULL when not recorded), each step's arguments digest and place among the
    # message's steps, and the conversations that compaction keeps whole.
    3: (
        "ALTER TABLE messages ADD COLUMN turn BLOB",
        "ALTER TABLE steps ADD COLUMN args BLOB",
        "ALTER TABLE steps ADD COLUMN position INTEGER NOT NULL DEFAULT 0",
        """
        CREATE TABLE pins (
            conversation TEXT PRIMARY KEY,
            pinned_at REAL NOT NULL
        ) WITHOUT ROWID
        """,
    ),
    4: (
        # Cancelled messages (`actorflow journal cancel`): status 'cancelled', who and when;
        # kept for the record, compacted like done messages (J10) through their own index.
        "ALTER TABLE messages ADD COLUMN cancelled_at REAL",
        "ALTER TABLE messages ADD COLUMN cancelled_by TEXT",
        "CREATE INDEX messages_cancelled ON messages (cancelled_at) WHERE status = 'cancelled'",
    ),
}
