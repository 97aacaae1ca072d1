"""The tables and functions through which nodes share one PostgreSQL journal (C2, C3).

Nodes, leases and shards are PostgreSQL's alone (SQLite and memory journals have one implicit
node), so they are versioned apart from the records' `SCHEMA_VERSION`, which both engines share:
``cluster_version`` in ``actorflow_meta``, migrated in the same transaction as the records.

- ``actorflow_nodes``: one row per node: its name, the incarnation (one per open journal) that
  holds the name, host, pid, when it started and last renewed its lease (the **database's**
  clock, ``clock_timestamp()``), and the lease's length. A clean shutdown deletes its row.
- ``actorflow_shards``: the journal's fixed number of shards (recorded at creation as
  ``shards`` in ``actorflow_meta``), each with its owner node and its fencing epoch, bumped by
  every claim.
- ``actorflow_shard(name, shards)``: an actor's shard, the first 32 bits of the MD5 of its
  UTF-8 name modulo the number of shards, so the server can compute it (owner-filtered reads,
  the fence) exactly as `shard_of` does in Python. (MD5 rather than BLAKE2b because PostgreSQL
  has MD5 built in; it only spreads names, it protects nothing.)
- ``actorflow_fence_shards(...)`` (version 3): run first in every group commit of a node, in its
  transaction: it takes the shards the batch writes for ``FOR SHARE`` (a claim by another node
  waits for the commit in flight, then sees it), and raises SQLSTATE ``AFC01`` if the node's
  lease is not live by the database's clock, ``AFC02`` if it does not hold one of them at the
  epoch it claimed. Nothing of the batch lands then. The shards of the actors the batch names
  come computed (`shard_of`, cached); those of the messages and timers it names by id, the
  server looks up. (Versions 1 and 2's ``actorflow_fence`` took the names and hashed each on every
  commit, ~35 us a message of the server's time; it stays for nodes of that version still
  running while a newer one migrates.)
- ``actorflow_asks`` and ``actorflow_replies`` (version 2): an ask from one node to an actor
  another node owns (C4) and, once the owner's turn commits, its reply, written in that turn's
  transaction (`_pg_asks`). Each row expires with its ask's timeout (the database's clock);
  the asker deletes what it took or stopped waiting for, and expired rows are deleted by the
  next ask of any node, by the asker's polls, and by `compact`.
- ``actorflow_follow(writer, number, previous)`` (version 4): run first in every group commit,
  before the fence. It locks the writer's row in ``actorflow_writers`` (a commit sent while the
  one before it is on its way waits there, at the server, for that one to end), raises SQLSTATE
  ``AFC03`` if the last commit that landed is not `previous` (when given: the commit it
  follows did not land, J3), and records `number` as the writer's last commit (J2: a commit
  whose answer was lost is told committed or not by it). A commit that reaches the server
  before the one it follows (sent first, on another connection) is refused the same way, and
  the journal's writer sends it again after that one: it costs time, never order. Also
  version 4: the actors' table keeps half of each page free (``fillfactor``), so that a state
  update fits beside the row it replaces and touches no index (a HOT update).
"""

from __future__ import annotations

import functools
import hashlib
from typing import Final

from ._rows import MESSAGE_COLUMNS

__all__ = [
    "CLUSTER_MIGRATIONS",
    "CLUSTER_VERSION",
    "DEFAULT_SHARDS",
    "FOLLOW",
    "LEASE_LAPSED",
    "NOT_FOLLOWED",
    "SHARD_NOT_HELD",
    "shard_of",
]

CLUSTER_VERSION: Final = 5
DEFAULT_SHARDS: Final = 64
LEASE_LAPSED: Final = "AFC01"
SHARD_NOT_HELD: Final = "AFC02"
NOT_FOLLOWED: Final = "AFC03"


@functools.lru_cache(maxsize=1 << 16)  # every commit asks for the shards of its actors
def shard_of(name: str, shards: int) -> int:
    """The shard of actor `name` among `shards`: stable across processes and hosts (never
    Python's `hash`), and the same as the database's ``actorflow_shard``."""
    digest = hashlib.md5(name.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:4], "big") % shards


def _shards_rows(shards: int) -> str:
    return f"INSERT INTO actorflow_shards (shard) SELECT generate_series(0, {shards - 1})"


# CLUSTER_MIGRATIONS[v] takes the cluster tables from version v - 1 to v, with the records'
# migrations, in one transaction.
CLUSTER_MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {
    1: (
        """
        CREATE TABLE actorflow_nodes (
            node TEXT PRIMARY KEY,
            incarnation TEXT NOT NULL,
            host TEXT NOT NULL,
            pid BIGINT NOT NULL,
            started_at TIMESTAMPTZ NOT NULL,
            renewed_at TIMESTAMPTZ NOT NULL,
            lease_seconds DOUBLE PRECISION NOT NULL
        )
        """,
        """
        CREATE TABLE actorflow_shards (
            shard INTEGER PRIMARY KEY,
            owner TEXT,
            epoch BIGINT NOT NULL DEFAULT 0,
            claimed_at TIMESTAMPTZ
        )
        """,
        f"INSERT INTO actorflow_meta (key, value) VALUES ('shards', '{DEFAULT_SHARDS}')",
        _shards_rows(DEFAULT_SHARDS),
        """
        CREATE FUNCTION actorflow_shard(name TEXT, shards INTEGER) RETURNS INTEGER
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN (('x' || substr(md5(convert_to(name, 'UTF8')), 1, 8))::bit(32)::bigint
                % shards)::integer
        """,
        f"""
        CREATE FUNCTION actorflow_fence(
            p_node TEXT, p_incarnation TEXT, p_shard_count INTEGER,
            p_shards INTEGER[], p_epochs BIGINT[],
            p_names TEXT[], p_messages TEXT[], p_timers TEXT[]
        ) RETURNS VOID LANGUAGE plpgsql AS $$
        DECLARE
            touched INTEGER[];
            stale INTEGER;
        BEGIN
            SELECT coalesce(array_agg(DISTINCT s), '{{}}') INTO touched FROM (
                SELECT actorflow_shard(n, p_shard_count) FROM unnest(p_names) AS n
                UNION ALL
                SELECT actorflow_shard(recipient, p_shard_count) FROM messages
                    WHERE id = ANY(p_messages)
                UNION ALL
                SELECT actorflow_shard(recipient, p_shard_count) FROM timers
                    WHERE id = ANY(p_timers)
            ) AS t(s);
            IF cardinality(touched) = 0 THEN
                RETURN;
            END IF;
            PERFORM 1 FROM actorflow_shards WHERE shard = ANY(touched) ORDER BY shard FOR SHARE;
            PERFORM 1 FROM actorflow_nodes
                WHERE node = p_node AND incarnation = p_incarnation
                AND renewed_at + make_interval(secs => lease_seconds) > clock_timestamp();
            IF NOT FOUND THEN
                RAISE EXCEPTION 'node % holds no live lease', p_node
                    USING ERRCODE = '{LEASE_LAPSED}';
            END IF;
            SELECT t.shard INTO stale FROM unnest(touched) AS t(shard)
                LEFT JOIN unnest(p_shards, p_epochs) AS h(shard, epoch) ON h.shard = t.shard
                LEFT JOIN actorflow_shards AS s ON s.shard = t.shard
                WHERE h.epoch IS NULL OR s.owner IS DISTINCT FROM p_node OR s.epoch <> h.epoch
                LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'node % no longer holds shard % at the epoch it claimed',
                    p_node, stale USING ERRCODE = '{SHARD_NOT_HELD}';
            END IF;
        END
        $$
        """,
    ),
    # C4: asks across nodes, and their replies (`_pg_asks`). No foreign key from a reply to
    # its ask: the owner's commit must never fail because its asker gave up at that moment.
    2: (
        """
        CREATE TABLE actorflow_asks (
            message_id TEXT PRIMARY KEY,
            node TEXT NOT NULL,
            asked_at TIMESTAMPTZ NOT NULL,
            expires_at TIMESTAMPTZ NOT NULL
        )
        """,
        "CREATE INDEX actorflow_asks_expiry ON actorflow_asks (expires_at)",
        """
        CREATE TABLE actorflow_replies (
            message_id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            body BYTEA,
            error TEXT,
            expires_at TIMESTAMPTZ NOT NULL
        )
        """,
        "CREATE INDEX actorflow_replies_expiry ON actorflow_replies (expires_at)",
    ),
    # C2: the fence given the shards, computed by the node (the old function stays).
    3: (
        f"""
        CREATE FUNCTION actorflow_fence_shards(
            p_node TEXT, p_incarnation TEXT, p_shard_count INTEGER,
            p_shards INTEGER[], p_epochs BIGINT[],
            p_touched INTEGER[], p_messages TEXT[], p_timers TEXT[]
        ) RETURNS VOID LANGUAGE plpgsql AS $$
        DECLARE
            touched INTEGER[] := p_touched;
            stale INTEGER;
        BEGIN
            IF cardinality(p_messages) > 0 OR cardinality(p_timers) > 0 THEN
                SELECT coalesce(array_agg(DISTINCT s), '{{}}') INTO touched FROM (
                    SELECT unnest(p_touched)
                    UNION ALL
                    SELECT actorflow_shard(recipient, p_shard_count) FROM messages
                        WHERE id = ANY(p_messages)
                    UNION ALL
                    SELECT actorflow_shard(recipient, p_shard_count) FROM timers
                        WHERE id = ANY(p_timers)
                ) AS t(s);
            END IF;
            IF cardinality(touched) = 0 THEN
                RETURN;
            END IF;
            PERFORM 1 FROM actorflow_shards WHERE shard = ANY(touched) ORDER BY shard FOR SHARE;
            PERFORM 1 FROM actorflow_nodes
                WHERE node = p_node AND incarnation = p_incarnation
                AND renewed_at + make_interval(secs => lease_seconds) > clock_timestamp();
            IF NOT FOUND THEN
                RAISE EXCEPTION 'node % holds no live lease', p_node
                    USING ERRCODE = '{LEASE_LAPSED}';
            END IF;
            SELECT t.shard INTO stale FROM unnest(touched) AS t(shard)
                LEFT JOIN unnest(p_shards, p_epochs) AS h(shard, epoch) ON h.shard = t.shard
                LEFT JOIN actorflow_shards AS s ON s.shard = t.shard
                WHERE h.epoch IS NULL OR s.owner IS DISTINCT FROM p_node OR s.epoch <> h.epoch
                LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'node % no longer holds shard % at the epoch it claimed',
                    p_node, stale USING ERRCODE = '{SHARD_NOT_HELD}';
            END IF;
        END
        $$
        """,
    ),
    # J2, J3: commits in order across the writer's two connections; HOT state updates.
    4: (
        f"""
        CREATE FUNCTION actorflow_follow(
            p_writer TEXT, p_number BIGINT, p_previous BIGINT
        ) RETURNS VOID LANGUAGE plpgsql AS $$
        DECLARE
            landed BIGINT;
        BEGIN
            SELECT last_commit INTO landed FROM actorflow_writers
                WHERE writer = p_writer FOR UPDATE;
            IF p_previous IS NOT NULL AND landed IS DISTINCT FROM p_previous THEN
                RAISE EXCEPTION 'commit % of writer % follows commit %, which did not land'
                    ' (the last that did is %)', p_number, p_writer, p_previous, landed
                    USING ERRCODE = '{NOT_FOLLOWED}';
            END IF;
            UPDATE actorflow_writers SET last_commit = p_number WHERE writer = p_writer;
        END
        $$
        """,
        "ALTER TABLE actors SET (fillfactor = 50)",
    ),
    # Cheaper appends and done-marks, the records unchanged: the index of conversations leaves
    # out each conversation's root, whose conversation is its own id. The unique index of ids
    # finds it (`_rows.conversation_parts`), and an outside tell no longer costs an entry there
    # at its append and another at its done-mark.
    5: (
        "DROP INDEX messages_conversation",
        "CREATE INDEX messages_conversation ON messages (conversation, seq)"
        " WHERE conversation <> id",
    ),
}

if set(CLUSTER_MIGRATIONS) != set(range(1, CLUSTER_VERSION + 1)):  # pragma: no cover
    raise AssertionError("the cluster migrations do not reach CLUSTER_VERSION")

# -- what a node runs ------------------------------------------------------------------------

LIVE: Final = "renewed_at + make_interval(secs => lease_seconds) > clock_timestamp()"
"""A node row whose lease is live, by the database's clock."""

JOIN: Final = (
    "INSERT INTO actorflow_nodes"
    " (node, incarnation, host, pid, started_at, renewed_at, lease_seconds)"
    " VALUES (%s, %s, %s, %s, clock_timestamp(), clock_timestamp(), %s)"
    " ON CONFLICT (node) DO UPDATE SET incarnation = excluded.incarnation,"
    " host = excluded.host, pid = excluded.pid, started_at = excluded.started_at,"
    " renewed_at = excluded.renewed_at, lease_seconds = excluded.lease_seconds"
    " WHERE actorflow_nodes.renewed_at"
    " + make_interval(secs => actorflow_nodes.lease_seconds) <= clock_timestamp()"
    " RETURNING node"
)
LOCAL_NODES: Final = f"SELECT node, pid FROM actorflow_nodes WHERE host = %s AND {LIVE}"
REAP: Final = "DELETE FROM actorflow_nodes WHERE node = %s AND pid = %s"
RENEW: Final = (
    "UPDATE actorflow_nodes SET renewed_at = clock_timestamp()"
    " WHERE node = %s AND incarnation = %s RETURNING node"
)
SHARDS: Final = "SELECT shard, owner, epoch FROM actorflow_shards ORDER BY shard"
LIVE_NODES: Final = f"SELECT node FROM actorflow_nodes WHERE {LIVE} ORDER BY node"
# A claim takes a shard only if it is still free when its row is locked: unowned, owned by an
# earlier incarnation of this node, or by a node whose lease lapsed (the database's clock).
CLAIM: Final = (
    "UPDATE actorflow_shards SET owner = %(node)s, epoch = epoch + 1,"
    " claimed_at = clock_timestamp()"
    " WHERE shard = ANY(%(shards)s::integer[]) AND (owner IS NULL OR owner = %(node)s"
    f" OR owner NOT IN (SELECT node FROM actorflow_nodes WHERE {LIVE}))"
    " RETURNING shard, epoch"
)
RELEASE: Final = (
    "UPDATE actorflow_shards AS s SET owner = NULL FROM unnest(%s::integer[], %s::bigint[])"
    " AS h(shard, epoch) WHERE s.shard = h.shard AND s.owner = %s AND s.epoch = h.epoch"
)
ORPHANED: Final = "UPDATE actorflow_shards SET owner = NULL WHERE owner = %s"
"""Run by a joining node under its name: what a dead incarnation of the name held is free."""
LEAVE: Final = "DELETE FROM actorflow_nodes WHERE node = %s AND incarnation = %s"
FOLLOW: Final = "SELECT actorflow_follow(%s, %s, %s)"
"""The first statement of a group commit: its writer, its number, and the number of the commit
it follows (None: it follows nothing on its way)."""
# The lists go as arrays in binary (`_pg_arrays`); the shards as bigint[], cast on the server.
FENCE: Final = (
    "SELECT actorflow_fence_shards(%s, %s, %s, %b::int8[]::integer[], %b::int8[],"
    " %b::int8[]::integer[], %b::text[], %b::text[])"
)
NODES: Final = (
    "SELECT n.node, n.host, n.pid, extract(epoch FROM n.started_at),"
    " extract(epoch FROM n.renewed_at), n.lease_seconds, "
    f" n.{LIVE},"
    " extract(epoch FROM clock_timestamp() - n.renewed_at),"
    " (SELECT coalesce(array_agg(shard ORDER BY shard), '{}') FROM actorflow_shards"
    " WHERE owner = n.node)"
    " FROM actorflow_nodes AS n ORDER BY n.node"
)
# J11, C4: a node takes only the notices of messages for actors of the shards the database
# says it owns now (and those of messages gone since, compacted): the others' notices wait for
# their owners. The database's word, not the node's own view: a node paused past its lease and
# resumed still believes it owns its old shards until it looks, and taking their notices then
# would hide messages from their new owner until its next restore (a later message could be
# handled first: found by tests/test_c3_failover.py). Read through the backend's `_fetch`, so
# written with `?` placeholders (`_pg_dialect`).
TAKE_OWNED_NOTICES: Final = (
    "WITH taken AS (DELETE FROM notices AS n WHERE NOT EXISTS"
    " (SELECT 1 FROM messages AS m WHERE m.id = n.message_id) OR EXISTS"
    " (SELECT 1 FROM messages AS m JOIN actorflow_shards AS s"
    " ON s.shard = actorflow_shard(m.recipient, ?)"
    " WHERE m.id = n.message_id AND s.owner = ?) RETURNING message_id)"
    f" SELECT {MESSAGE_COLUMNS} FROM messages WHERE status IN ('pending', 'cancelled')"
    " AND id IN (SELECT message_id FROM taken) ORDER BY seq"
)
NOTICES: Final = "INSERT INTO notices (message_id) SELECT unnest(%b::text[])"
"""Notices for messages appended for actors of other nodes, in the appending commit (C4)."""
