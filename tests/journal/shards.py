"""A shard taken from under a node, as the cluster tests stage it (C2): straight in the database."""

from __future__ import annotations

import psycopg

from actorflow.journal._pg_cluster import DEFAULT_SHARDS, shard_of

TAKE_SHARD = (
    "INSERT INTO actorflow_nodes VALUES ('two', 'i', 'h', 1, clock_timestamp(),"
    " clock_timestamp(), 3600);"
    " UPDATE actorflow_shards SET owner = 'two', epoch = epoch + 1 WHERE shard = {shard}"
)


def another_node_takes(url: str, actor: str) -> None:
    """Node 'two', alive (a lease of an hour), takes `actor`'s shard at the next epoch: what a
    claim after the owner's lease lapsed does."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(TAKE_SHARD.format(shard=shard_of(actor, DEFAULT_SHARDS)))
