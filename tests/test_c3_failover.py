"""Real node processes (`actorflow run --node`) over one real PostgreSQL server (C2, C3):
a SIGKILLed node's actors are handled by another node, in order, none lost, none twice, its
timers fire once; a node SIGSTOPped past its lease commits nothing for the actors it lost, and
stops them. The failover time (SIGKILL to the first message handled by the new owner) is
printed, not asserted (a benchmark row is where a target belongs).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import psycopg
import pytest

import actorflow as af
from actorflow import Codec
from actorflow.durable._records import record_for
from actorflow.journal import PostgresJournal
from actorflow.journal._pg_cluster import DEFAULT_SHARDS, shard_of
from actorflow.journal._pg_outside import append_outside

from .apps.cluster import NAMES, Add, Counter, Seen
from .journal.postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
LEASE = "1"

# The first node keeps shards 0-31 when the second joins (it releases its highest ones).
STAYING = [n for n in NAMES if shard_of(n, DEFAULT_SHARDS) < DEFAULT_SHARDS // 2]
MOVING = [n for n in NAMES if n not in STAYING]


class Node:
    """A node process and the lines of its stdout, with when each came."""

    def __init__(self, url: str, name: str) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "actorflow",
                "run",
                "tests.apps.cluster:main",
                "--journal",
                url,
                "--node",
                name,
                "--lease",
                LEASE,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[tuple[float, str]] = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.changed:
                self.lines.append((time.time(), line.strip()))
                self.changed.notify_all()

    def wait_for(self, found: Callable[[str], bool], seconds: float = 30.0) -> tuple[float, str]:
        """The first line `found` accepts, waiting for it (a real signal: the node's stdout)."""
        deadline = time.monotonic() + seconds
        with self.changed:
            while True:
                for at, line in self.lines:
                    if found(line):
                        return at, line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError(f"node {self.name}: no such line in {self.lines}")
                self.changed.wait(left)

    def stop(self) -> str:
        """SIGTERM it (a clean leave); its stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=30)
        return err


def owners(url: str) -> dict[str, str | None]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT shard, owner FROM actorflow_shards").fetchall()
    by_shard = {int(s): (None if o is None else str(o)) for s, o in rows}
    return {n: by_shard[shard_of(n, DEFAULT_SHARDS)] for n in NAMES}


def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll `condition` (the journal's rows) until it holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the journal did not get there in time")
        time.sleep(0.05)


def send(url: str, numbers: range, names: list[str], *, slow: bool = False) -> None:
    """Append numbers for `names` from outside (J11): each append is committed, acknowledged."""
    with psycopg.connect(url, autocommit=True) as conn:
        for n in numbers:
            for name in names:
                record = record_for(Add(n, slow), name, f"{name}-{n}", None)
                assert append_outside(conn, record) is not None


def states(url: str) -> dict[str, Seen]:
    codec = Codec(Seen)

    async def read() -> dict[str, Seen]:
        journal = PostgresJournal(url)  # not joined: a reader
        await journal.open()
        try:
            found = {}
            for name in NAMES:
                record = await journal.actor(name)
                state = None if record is None else record.state
                found[name] = Seen() if state is None else codec.decode(state)
            return found
        finally:
            await journal.close()

    return anyio.run(read)


def all_handled(url: str, numbers: list[int], rings: int | None = 1) -> Callable[[], bool]:
    """Whether every counter holds exactly `numbers` (and rang `rings` times, unless None)."""

    def check() -> bool:
        return all(
            s.numbers == numbers and (rings is None or s.rings == rings)
            for s in states(url).values()
        )

    return check


def two_nodes(url: str) -> tuple[Node, Node]:
    assert STAYING, "the names must split across the two nodes"
    assert MOVING, "the names must split across the two nodes"
    first = Node(url, "n1")
    first.wait_for(lambda line: line == "ready")
    second = Node(url, "n2")
    second.wait_for(lambda line: line == "ready")
    until(lambda: owners(url) == {n: "n1" if n in STAYING else "n2" for n in NAMES})
    return first, second


@pytest.mark.timeout(150)
def test_c3_a_killed_nodes_actors_are_handled_by_another_in_order_once_and_its_timers_fire_once(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    first, second = two_nodes(url)
    try:
        send(url, range(1, 6), NAMES)
        second.wait_for(lambda line: line.startswith(f"handled {MOVING[0]} 1 "))
        second.proc.send_signal(signal.SIGKILL)
        killed = time.time()
        second.proc.wait(timeout=30)
        send(url, range(6, 11), NAMES)  # acknowledged while nobody owns half the actors
        until(all_handled(url, list(range(1, 11))), seconds=60)
        at, _ = first.wait_for(lambda line: any(line.startswith(f"handled {n} ") for n in MOVING))
        print(f"failover: {at - killed:.3f} s from SIGKILL to the first message handled by n1")
        assert owners(url) == dict.fromkeys(NAMES, "n1")
    finally:
        first.stop()
        second.stop()


@pytest.mark.timeout(150)
def test_c2_a_node_paused_past_its_lease_commits_nothing_for_what_it_lost_and_stops_it(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    first, second = two_nodes(url)
    try:
        send(url, range(1, 3), NAMES)
        until(all_handled(url, [1, 2], rings=None))
        send(url, range(3, 4), MOVING, slow=True)
        for name in MOVING:
            second.wait_for(lambda line, name=name: line == f"started {name} 3")
        second.proc.send_signal(signal.SIGSTOP)  # its handlers' commits are still to come
        until(lambda: owners(url) == dict.fromkeys(NAMES, "n1"))  # its lease lapsed
        send(url, range(4, 6), NAMES)
        second.proc.send_signal(signal.SIGCONT)
        second.wait_for(lambda line: line.startswith("fenced_commits_refused="))
        send(url, range(6, 7), NAMES)
        expected = {n: [1, 2, 3, 4, 5, 6] if n in MOVING else [1, 2, 4, 5, 6] for n in NAMES}
        until(lambda: {n: s.numbers for n, s in states(url).items()} == expected, seconds=60)
        assert all(s.rings == 1 for s in states(url).values())  # once cluster-wide
        assert second.proc.poll() is None  # the fenced node carries on
    finally:
        first.stop()
        err = second.stop()
    assert second.proc.returncode == 0, err
    assert "moved to other nodes; stopping them here" in err
    # Its actors were stopped, not failed: no restart counted, nothing dead-lettered.
    assert "gave up" not in err
    assert "dead letter" not in err
    assert "retrying after restart" not in err


@pytest.mark.timeout(120)
def test_c4_an_ask_whose_owner_is_killed_mid_turn_gets_the_new_owners_reply(
    postgres: PostgresServer,
) -> None:
    """C3 under an ask (C4): the node running the asked actor is SIGKILLed in the middle of
    the handler; the asking node takes the actor over, handles the message again, and its
    commit carries the reply, well within the ask's timeout."""
    url = postgres.new_database()
    asked = MOVING[0]

    async def asking() -> None:
        journal = PostgresJournal(url, node="n1", lease=float(LEASE))
        async with af.ActorSystem(journal=journal) as system:
            other = Node(url, "n2")
            try:
                await anyio.to_thread.run_sync(lambda: other.wait_for(lambda s: s == "ready"))
                with anyio.fail_after(30):
                    while journal.owns(asked):  # noqa: ASYNC110  # the shards: polled, bounded
                        await anyio.sleep(0.05)
                ref = await system.spawn(Counter, name=asked)  # a stand-in: n2 runs it
                async with anyio.create_task_group() as tg:
                    replies, killed = await kill_mid_ask(tg, ref, other, asked)
                assert replies == [None]  # the handler's reply: None, as it declares
                print(f"ask answered {time.monotonic() - killed:.3f} s after the SIGKILL")
                assert journal.owns(asked)
            finally:
                other.stop()

    anyio.run(asking)
    assert states(url)[asked].numbers == [1]  # handled once as far as the journal knows
    with psycopg.connect(url, autocommit=True) as conn:
        left = conn.execute(
            "SELECT (SELECT count(*) FROM actorflow_asks), (SELECT count(*) FROM actorflow_replies)"
        ).fetchone()
    assert left == (0, 0)


async def kill_mid_ask(
    tg: anyio.abc.TaskGroup, ref: af.ActorRef[Any], node: Node, asked: str
) -> tuple[list[object], float]:
    """Ask `asked` (run by `node`) a slow ``Add(1)`` in `tg`, and SIGKILL `node` once its
    handler has started; returns the list the reply goes into when the ask returns, and
    when the kill was sent."""
    replies: list[object] = []

    async def ask() -> None:
        replies.append(await ref.ask(Add(1, slow=True), timeout=30))

    tg.start_soon(ask)
    await anyio.to_thread.run_sync(lambda: node.wait_for(lambda s: s == f"started {asked} 1"))
    node.proc.send_signal(signal.SIGKILL)
    return replies, time.monotonic()


def shards_held(url: str) -> dict[str | None, int]:
    """How many shards each node holds (None: nobody)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT owner, count(*) FROM actorflow_shards GROUP BY owner")
        return {None if o is None else str(o): int(c) for o, c in rows.fetchall()}


@pytest.mark.timeout(120)
def test_c3_c4_a3_an_ask_from_a_third_node_is_answered_by_the_node_that_takes_over(
    postgres: PostgresServer,
) -> None:
    """C3 under an ask from a node that is neither the old owner nor the new one: node c (this
    process) asks an actor of node n1; n1 is SIGKILLed in the middle of the handler; n2 takes
    the shard over, handles the message once, and its commit carries the reply to c through
    the journal. An ask that cannot be answered within its timeout (the handler alone takes a
    second) raises AskTimeout, a TimeoutError (A3); its message is still handled once.

    Who takes the shard is made certain, not left to a race: c renews its lease every 200 s
    (a 600 s lease), so it looks at the shards only when it joins, when n1 and n2 hold them
    all, and claims none during the test; n2 is the one node left to claim n1's. The shards
    are claimed lowest first, and the asked actor's is shard 0, which n1 keeps when c joins."""
    url = postgres.new_database()
    asked = "counter-7"
    assert shard_of(asked, DEFAULT_SHARDS) == 0
    first, second = two_nodes(url)
    try:

        async def asking() -> None:
            journal = PostgresJournal(url, node="c", lease=600.0)
            async with af.ActorSystem(journal=journal) as system:
                # The other two give up a share for c (which claims none: see above): n2 has
                # room for n1's shards once n1 is gone.
                await anyio.to_thread.run_sync(
                    until, lambda: shards_held(url) == {"n1": 22, "n2": 22, None: 20}
                )
                assert owners(url)[asked] == "n1"
                ref = system.lookup(asked)  # a stand-in: n1 runs it
                async with anyio.create_task_group() as tg:
                    replies, killed = await kill_mid_ask(tg, ref, first, asked)
                    with pytest.raises(af.AskTimeout) as timed_out:
                        await ref.ask(Add(2, slow=True), timeout=0.3)
                    assert isinstance(timed_out.value, TimeoutError)
                assert replies == [None]  # the handler's reply (it declares None)
                print(f"ask from a third node answered {time.monotonic() - killed:.3f} s after")
                assert not journal.owns(asked)

        anyio.run(asking)
        until(lambda: states(url)[asked].numbers == [1, 2])
        assert owners(url)[asked] == "n2"
        second.wait_for(lambda line: line.startswith(f"handled {asked} 2 "))
        # Once each, by n2; n1 was killed before it finished the first.
        handled = [
            (node.name, line.split(" at=")[0])
            for node in (first, second)
            for _, line in node.lines
            if line.startswith(f"handled {asked} ")
        ]
        assert handled == [("n2", f"handled {asked} 1"), ("n2", f"handled {asked} 2")]
        with psycopg.connect(url, autocommit=True) as conn:
            left = conn.execute(
                "SELECT (SELECT count(*) FROM actorflow_asks),"
                " (SELECT count(*) FROM actorflow_replies)"
            ).fetchone()
        assert left == (0, 0)
    finally:
        first.stop()
        second.stop()
