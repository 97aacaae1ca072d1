"""`durable_throughput_postgres` from 1, 2 and 3 nodes side by side, and the failover time (C2,
C3).

Each node is a process of its own (`cluster_node.py`) over one throwaway PostgreSQL server
(tests/journal/postgres_server.py, ``synchronous_commit=on``), a fresh database per round. The
first node spawns the counters; the others join and take their shares. Once every counter runs
on some node and the shares stayed the same for a moment, each node produces to the counters it
runs; msg/s is every message over the time from the first node's start to the last one's end.
The failover row runs the cluster kill loop (tests/crash/cluster.py) with 3 nodes, kills only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import Row, Sizes, at_least, at_most, expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' helpers
from tests.crash.cluster import run as kill_loop
from tests.journal.postgres_server import PostgresServer, postgres_server

BENCHMARKS = Path(__file__).resolve().parent

NODE_COUNTS = (1, 2, 3)
SETTLE_SECONDS = 60.0
"""How long the shares may take to settle before the round gives up."""
STABLE_POLLS = 3
"""Polls, 0.5 s apart, that must find the same shares before the producers start."""


class NodeProcess:
    def __init__(self, url: str, node: str, actors: int, per_actor: int, spawn: bool) -> None:
        self.node = node
        arguments = [url, node, str(actors), str(per_actor), "1" if spawn else "0"]
        self.proc = subprocess.Popen(
            [sys.executable, str(BENCHMARKS / "cluster_node.py"), *arguments],
            cwd=BENCHMARKS,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def expect_line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"node {self.node} ended with {self.proc.wait(timeout=60)}")
        return line

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def owned(self) -> int:
        self.send("count")
        return int(self.expect_line().removeprefix("owned "))

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # the node's main ends: a clean leave
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=60)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def _round(server: PostgresServer, nodes: int, actors: int, count: int) -> float:
    per_actor, rest = divmod(count, actors)
    expect("messages per actor (count % actors)", rest, 0)
    url = server.url(server.create_database())
    ring = [NodeProcess(url, "b1", actors, per_actor, spawn=True)]
    try:
        expect("the first node's answer", ring[0].expect_line(), "joined")
        ring += [
            NodeProcess(url, f"b{index}", actors, per_actor, spawn=False)
            for index in range(2, nodes + 1)
        ]
        for node in ring[1:]:
            expect(f"{node.node}'s answer", node.expect_line(), "joined")
        shares = _settled(ring, actors)
        for node in ring:
            node.send("warm")
        for node in ring:
            expect(f"{node.node}'s answer", node.expect_line(), "warm")
        for node in ring:
            node.send("go")
        results = [json.loads(node.expect_line()) for node in ring]
    finally:
        for node in ring:
            node.close()
    expect(
        f"messages handled by {nodes} node(s) sharing {shares}",
        sum(r["messages"] for r in results),
        count,
    )
    elapsed = max(r["end"] for r in results) - min(r["start"] for r in results)
    return count / elapsed


def _settled(ring: list[NodeProcess], actors: int) -> list[int]:
    """Poll the nodes until every counter runs on exactly one and the shares hold still."""
    deadline = time.monotonic() + SETTLE_SECONDS
    seen: list[list[int]] = []
    while time.monotonic() < deadline:
        shares = [node.owned() for node in ring]
        seen.append(shares)
        last = seen[-STABLE_POLLS:]
        steady = len(last) == STABLE_POLLS and all(s == shares for s in last)
        if steady and sum(shares) == actors and all(shares):
            return shares
        time.sleep(0.5)  # polling the nodes, with a deadline
    raise RuntimeError(f"the counters' shares did not settle in {SETTLE_SECONDS:.0f} s: {seen[-1]}")


async def durable_throughput_postgres_nodes(sizes: Sizes) -> list[Row]:
    """msg/s of `durable_throughput`'s workload from 1, 2 and 3 node processes."""
    actors, count = sizes.durable_actors, sizes.durable_messages
    rates: dict[int, float] = {}
    with postgres_server(synchronous_commit=True) as server:
        for _ in range(max(1, sizes.rounds // 2)):
            for nodes in NODE_COUNTS:
                rates[nodes] = max(rates.get(nodes, 0.0), _round(server, nodes, actors, count))
    note = (
        f"{count:,} messages to {actors:,} counters, one producer each on the node that runs it,"
        " every node a process of its own over one PostgreSQL server (Unix socket, fsync=on,"
        " synchronous_commit=on)"
    )
    rows = [
        Row(
            "durable_throughput_postgres_1_node",
            rates[1],
            "msg/s",
            at_least(20_000),
            note=note,
        )
    ]
    rows += [
        Row(
            f"durable_throughput_postgres_{nodes}_nodes",
            rates[nodes],
            "msg/s",
            baseline=rates[1],
            note=f"the same from {nodes} nodes; baseline: 1 node in the same run",
        )
        for nodes in NODE_COUNTS[1:]
    ]
    return rows


async def cluster_failover(sizes: Sizes) -> list[Row]:
    """p99 of the failover times of the cluster kill loop, 3 nodes, kills only."""
    kills = 6 if sizes.rounds >= 5 else 3
    with tempfile.TemporaryDirectory(prefix="actorflow-failover-") as scratch:
        outcome = kill_loop(
            kills,
            3,
            kills,
            Path(scratch),
            stop_seconds=0.0,
            stops=0,
            cuts=0,
            restart_server=False,
            namespaces=False,  # the nodes over the Unix socket, as the row has always measured
        )
    if not outcome.ok:
        raise RuntimeError(f"the kill loop failed: {outcome.line()} {outcome.problems}")
    ordered = sorted(outcome.failovers)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] if ordered else None
    return [
        Row(
            "cluster_failover_p99",
            p99,
            "s",
            at_most(5.0),
            note=f"{kills} SIGKILLs of a node owning actors among 3, from each kill to the first"
            f" message one of its actors got from another process; {outcome.failover_line()}",
        )
    ]
