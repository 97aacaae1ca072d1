"""The cluster kill loop (C2, C3, C4, J2, J3, J5): nodes over one PostgreSQL server, killed.

``python -m tests.crash.cluster N [--nodes K] [--seed S] [--rate R] [--stop-seconds T]`` starts
a real PostgreSQL server (tests/journal/postgres_server.py, ``synchronous_commit=on``) and K
node processes (``actorflow run tests.crash.ring:main --journal postgresql://... --node nK``,
the ``--node`` option given when the CLI has it), while an outside producer in this process
appends Work messages and records each acknowledged one (most through the journal's outside
append, every `CLI_EVERY`-th through ``actorflow send``). Meanwhile it SIGKILLs a random node N
times (restarting it a moment later), SIGSTOPs one node for ``--stop-seconds`` (longer than a
lease) before SIGCONT, and restarts the server once (``pg_ctl restart -m immediate``).

Where the process is root and the kernel allows network namespaces (tests/crash/partition.py
probes it), each node runs in a namespace of its own, joined to the root namespace by a veth
pair, and reaches the server over TCP at its link's root-side address; the loop then also cuts
one node off (its link down) for ``--stop-seconds`` and brings the link back, so the node's
connections hang as in a partition (``--cuts`` of them, and ``--stops`` SIGSTOPs, in a random
order among the kills). Elsewhere it runs SIGSTOPs only, and says why in one line. Each
namespace, pair and route is removed at the end, also after a failure or Ctrl-C.

At the end it waits until nothing is pending, stops the nodes and checks, from the actors'
states and from the journal, that every acknowledged Work and every relay was handled exactly
once, in order per actor. A trigger installed by the loop keeps every state an actor's row
ever held: a commit that lands from a node that lost the actor (a stale owner) writes a state
that does not move on from the one before it, and counts as duplicated. The final line:

``kills=N stops=N cuts=N acked=N lost=N duplicated=N fenced_commits_refused=N``

after the failover times (from each SIGKILL to the first message handled by another process
of one of the actors the killed one handled last). Exits 1 when anything is lost, duplicated
or out of order.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import psycopg

from actorflow import JournalError
from actorflow.durable import record_for
from actorflow.journal._pg_outside import append_outside

from ..journal.postgres_server import PostgresServer, postgres_server
from .partition import Link, Network, probe
from .ring import ACTORS, HOPS, RingState, Work, ring_name

ROOT = Path(__file__).resolve().parents[2]
CLI_EVERY = 97
"""Every so many Works go through ``actorflow send`` instead of the outside append."""
READY_SECONDS = 120.0
NAME_TAKEN = "is held by a live node"
"""What a node started while its name's lease is still live says (NodeNameTaken)."""
SETTLE_SECONDS = 240.0
FENCE_CODES = ("AFC01", "AFC02")
"""The SQLSTATEs of a commit the database refused: the node's lease lapsed, or it no longer
holds a shard it writes (``actorflow_fence``, C2)."""
LOG_CODES = "ALTER SYSTEM SET log_line_prefix = '%m [%p] %e '"
"""The server's log names each error's SQLSTATE, to count the refused commits from outside."""

AUDIT = """
CREATE TABLE ring_audit (
    number BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    state BYTEA NOT NULL
);
CREATE FUNCTION ring_audit_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IS NOT NULL AND NEW.name LIKE 'ring/%' THEN
        INSERT INTO ring_audit (name, state) VALUES (NEW.name, NEW.state);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ring_audit AFTER INSERT OR UPDATE OF state ON actors
    FOR EACH ROW EXECUTE FUNCTION ring_audit_state();
"""
"""Every state written to a ring actor's row, in the order the rows' locks were taken."""


@dataclass
class Outcome:
    kills: int
    stops: int
    cuts: int
    acked: int
    lost: int
    duplicated: int
    fenced: int
    failovers: list[float]
    problems: list[str] = field(default_factory=list)
    details: dict[str, int] = field(default_factory=dict)
    told: list[str] = field(default_factory=list)
    mode: str = ""

    def failover_line(self) -> str:
        if not self.failovers:
            return "failover: none measured"
        ordered = sorted(self.failovers)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        return (
            f"failover_s p50={statistics.median(ordered):.3f} p99={p99:.3f}"
            f" max={ordered[-1]:.3f} n={len(ordered)}"
        )

    def details_line(self) -> str:
        return " ".join(f"{key}={value}" for key, value in self.details.items())

    def line(self) -> str:
        return (
            f"kills={self.kills} stops={self.stops} cuts={self.cuts} acked={self.acked}"
            f" lost={self.lost}"
            f" duplicated={self.duplicated} fenced_commits_refused={self.fenced}"
        )

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and not self.problems


class Node:
    """One node process, started again after each kill under the same name; in its network
    namespace when it has a link."""

    def __init__(
        self, name: str, url: str, logs: Path, named: bool, link: Link | None = None
    ) -> None:
        self.name, self.url, self.logs, self.named = name, url, logs, named
        self.link = link
        self.proc: subprocess.Popen[str] | None = None
        self.ready = threading.Event()
        self.reader = threading.Thread()
        self.starts = 0

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "RING_LOG": str(self.logs)}
        env["RING_NODE"] = self.name
        node = ["--node", self.name] if self.named else []
        self.starts += 1
        stderr = (self.logs / f"{self.name}-{self.starts}.err").open("w")
        self.ready = threading.Event()
        command = [sys.executable, "-m", "actorflow", "run", "tests.crash.ring:main"]
        command += ["--journal", self.url, *node]
        if self.link is not None:
            command = self.link.command(command)  # ip netns exec: the pid is Python's
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        stderr.close()
        self.reader = threading.Thread(target=self._read, args=(self.proc, self.ready))
        self.reader.start()

    @staticmethod
    def _read(proc: subprocess.Popen[str], ready: threading.Event) -> None:
        assert proc.stdout is not None
        with proc.stdout:
            for line in proc.stdout:
                if line.strip() == "ready":
                    ready.set()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=60)
        self.reader.join(timeout=60)  # its stdout read to the end and closed

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while not self.ready.wait(0.1):  # the "ready" line, or the process's end
            if not self.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start: {self.stderr_tail()}")

    def restart(self) -> int:
        """Start again under the same name, as a service manager would: while the killed
        process's lease is live, the name is refused (NodeNameTaken, exit 1) and the node is
        started again a moment later. Returns the number of refused starts."""
        deadline = time.monotonic() + READY_SECONDS
        refused = 0
        while True:
            self.start()
            try:
                self.wait_ready()
                return refused
            except RuntimeError:
                if NAME_TAKEN not in self.stderr_tail() or time.monotonic() > deadline:
                    raise
            self.stop()
            refused += 1
            time.sleep(0.5)  # a service manager's restart delay

    def stop(self) -> int:
        """SIGTERM (a graceful stop); returns the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            status = self.proc.wait(timeout=60)
        self.reader.join(timeout=60)
        return status

    def stderr_tail(self) -> str:
        text = (self.logs / f"{self.name}-{self.starts}.err").read_text()
        return text[-2000:]


class Producer(threading.Thread):
    """Appends Work(k) for k = 0, 1, ... to ring/(k % ACTORS), each under the id "work-k",
    until told to stop; a k is acknowledged once its append returned, and sent again under
    the same id (a no-op if it was in) until it is."""

    def __init__(self, url: str, rate: float) -> None:
        super().__init__(daemon=True)
        self.url, self.interval = url, 1.0 / rate
        self.acked: list[int] = []
        self.retries = 0
        self.halt = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            self._produce()
        except BaseException as exc:  # reported by the loop
            self.failure = exc

    def _produce(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        k = 0
        next_at = time.monotonic()
        while not self.halt.is_set():
            try:
                if k % CLI_EVERY == CLI_EVERY - 1:
                    self._send_by_cli(k)
                else:
                    if conn is None or conn.closed:
                        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
                    record = record_for(Work(k), ring_name(k % ACTORS), f"work-{k}", None)
                    append_outside(conn, record)
            except (JournalError, psycopg.Error, subprocess.CalledProcessError):
                self.retries += 1
                if conn is not None:
                    conn.close()
                    conn = None
                self.halt.wait(0.1)  # the server may be restarting: try again shortly
                continue
            self.acked.append(k)
            k += 1
            next_at += self.interval
            self.halt.wait(max(0.0, next_at - time.monotonic()))
        if conn is not None:
            conn.close()

    def _send_by_cli(self, k: int) -> None:
        body = json.dumps({"k": k})
        command = ["send", ring_name(k % ACTORS), "ring.Work", body, "--id", f"work-{k}"]
        subprocess.run(
            [sys.executable, "-m", "actorflow", *command, "--journal", self.url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


OWNED = """
SELECT s.owner, a.name FROM actors AS a JOIN actorflow_shards AS s
    ON s.shard = actorflow_shard(a.name,
        (SELECT value::integer FROM actorflow_meta WHERE key = 'shards'))
WHERE a.name LIKE 'ring/%' AND s.owner IS NOT NULL
"""
"""Which node owns each ring actor now, by its shard (C2; one node of main's journal: none)."""


def owners(url: str) -> dict[str, set[str]]:
    """The ring actors each node owns, as the journal says; empty if it cannot say."""
    owned: dict[str, set[str]] = {}
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            for owner, name in conn.execute(OWNED):
                owned.setdefault(str(owner), set()).add(str(name))
    except psycopg.Error:
        return {}  # no cluster tables, or the server is coming back
    return owned


@dataclass
class Kill:
    node: str
    pid: int
    at: float
    owned: set[str] | None
    """The ring actors its node owned when it was killed (None: the journal could not say)."""
    failover: float | None = None


@dataclass
class Pause:
    """A node SIGSTOPped (how="stop") or cut off (how="cut") from `at` to `until`."""

    how: str
    node: str
    pid: int
    at: float
    until: float
    owned: set[str]
    """The ring actors its node owned when the pause began."""
    taken: int = 0
    """How many of them other nodes owned at its end, by the journal's shards (C2, C3)."""
    holding: str = ""
    """What the node's sessions were doing at its end, as the server saw them (`holding`)."""


def cli_names_nodes() -> bool:
    """Whether ``actorflow run`` takes ``--node`` (the cluster) in this version."""
    shown = subprocess.run(
        [sys.executable, "-m", "actorflow", "run", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return "--node" in shown.stdout


def run(
    kills: int,
    nodes: int,
    seed: int,
    workdir: Path,
    *,
    rate: float = 150.0,
    stop_seconds: float = 8.0,
    stops: int = 1,
    cuts: int = 1,
    restart_server: bool = True,
    namespaces: bool = True,
) -> Outcome:
    """The loop; `cuts` count only where nodes run in network namespaces (`namespaces` and
    `partition.probe` allowing it): elsewhere there are none, and `Outcome.mode` says why."""
    rng = random.Random(seed)
    named = cli_names_nodes()
    if nodes > 1 and not named:
        raise RuntimeError("actorflow run has no --node option: several nodes need the cluster")
    why_not = probe() if namespaces else "namespaces not asked for"
    network = Network()
    try:
        if why_not is None:
            for i in range(nodes):
                network.add(f"n{i + 1}", i + 1)
            mode = (
                f"mode=namespaces: each node in a network namespace of its own, over TCP through"
                f" a veth pair ({', '.join(network.subnets)}); a cut takes its link down"
            )
        else:
            mode, cuts = f"mode=sigstop-only: {why_not}", 0
        outcome = run_in(
            network,
            kills,
            nodes,
            rng,
            workdir,
            named,
            rate=rate,
            stop_seconds=stop_seconds,
            stops=stops,
            cuts=cuts,
            restart_server=restart_server,
        )
    finally:
        left = network.close()
    outcome.mode = mode
    outcome.problems += [f"not cleaned up: {line}" for line in left]
    return outcome


def run_in(
    network: Network,
    kills: int,
    nodes: int,
    rng: random.Random,
    workdir: Path,
    named: bool,
    *,
    rate: float,
    stop_seconds: float,
    stops: int,
    cuts: int,
    restart_server: bool,
) -> Outcome:
    """The loop over nodes in `network`'s namespaces (none when it has no links)."""
    listen, trusted = network.server_addresses, network.subnets
    with postgres_server(synchronous_commit=True, listen=listen, trusted=trusted) as server:
        database = server.create_database()
        url = server.url(database)
        server.execute(LOG_CODES)
        server.execute("SELECT pg_reload_conf()")
        logs = workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        ring = []
        for i in range(nodes):
            name = f"n{i + 1}"
            link = network.links.get(name)
            node_url = url  # a node in a namespace reaches the server over TCP on its link
            if link is not None:
                node_url = f"postgresql://postgres@{link.server_address}:{server.port}/{database}"
            ring.append(Node(name, node_url, logs, named, link))
        with stopping(ring):
            ring[0].start()
            ring[0].wait_ready()  # the journal's schema is there, and the ring's actors
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(AUDIT)
            for node in ring[1:]:
                node.start()
            for node in ring[1:]:
                node.wait_ready()
            producer = Producer(url, rate)
            producer.start()
            killed, paused, refused = chaos(
                rng, ring, server, url, kills, stop_seconds, stops, cuts, restart_server
            )
            producer.halt.set()
            producer.join(timeout=180)
            if producer.failure is not None:
                raise RuntimeError(f"the producer failed: {producer.failure!r}")
            problems = settle(url, len(producer.acked))
            statuses = {node.name: node.stop() for node in ring}
        problems += [f"{n} exited with {s} on SIGTERM" for n, s in statuses.items() if s != 0]
        outcome = check(url, producer.acked, problems)
        outcome.kills = len(killed)
        outcome.stops = len([p for p in paused if p.how == "stop"])
        outcome.cuts = len([p for p in paused if p.how == "cut"])
        outcome.told = failovers(logs, killed) + taken_over(logs, paused)
        for how in ("stop", "cut"):
            moved = [p.taken for p in paused if p.how == how]
            if moved:
                outcome.details[f"{how}_actors_taken_over"] = sum(moved)
        outcome.failovers = [kill.failover for kill in killed if kill.failover is not None]
        outcome.fenced = fenced_commits(server.root / "server.log")
        outcome.details["sent_by_cli"] = len(producer.acked) // CLI_EVERY
        outcome.details["producer_retries"] = producer.retries
        outcome.details["restarts_refused_name_held"] = refused
        return outcome


@contextlib.contextmanager
def stopping(ring: list[Node]) -> Iterator[None]:
    """SIGCONT and SIGKILL whatever still runs when the loop fails (before its namespace, if
    any, is removed)."""
    try:
        yield
    except BaseException:
        for node in ring:
            if node.alive():
                assert node.proc is not None
                node.proc.send_signal(signal.SIGCONT)
                node.kill()
        raise


def chaos(
    rng: random.Random,
    ring: list[Node],
    server: PostgresServer,
    url: str,
    kills: int,
    stop_seconds: float,
    stops: int,
    cuts: int,
    restart_server: bool,
) -> tuple[list[Kill], list[Pause], int]:
    """Run the kills, stops, cuts and the server restart (unless told not to), in a random
    order; return the kills, the pauses (stops and cuts) and the restarts refused for a name
    still held."""
    events = ["kill"] * kills + ["stop"] * stops + ["cut"] * cuts
    events += ["restart-server"] * restart_server
    rng.shuffle(events)
    killed: list[Kill] = []
    paused: list[Pause] = []
    refused = 0
    for event in events:
        time.sleep(rng.uniform(0.3, 1.5))  # a random moment, not a wait for an event
        owned = owners(url)
        busy = [node for node in ring if owned.get(node.name)]
        node = rng.choice(busy if event != "restart-server" and busy else ring)
        if event == "kill":
            killed.append(Kill(node.name, node.pid, time.time(), owned.get(node.name) or None))
            node.kill()
            time.sleep(rng.uniform(0.2, 2.0))  # down for a while
            refused += node.restart()
        elif event in ("stop", "cut"):
            pause = Pause(event, node.name, node.pid, time.time(), 0.0, owned.get(node.name, set()))
            with pausing(node, event):
                time.sleep(stop_seconds)  # longer than a lease: the others take its actors
                now = owners(url)
                pause.holding = holding(url, node)
                pause.until = time.time()
            others = set().union(*(names for n, names in now.items() if n != node.name))
            pause.taken = len(pause.owned & others)
            paused.append(pause)
        else:
            server.restart()
    return killed, paused, refused


@contextlib.contextmanager
def pausing(node: Node, how: str) -> Iterator[None]:
    """SIGSTOP `node` or cut its link off (its TCP connections hang: nothing it sends gets
    through, nothing reaches it) for the block; then SIGCONT it or bring the link back."""
    assert node.proc is not None
    if how == "stop":
        node.proc.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            node.proc.send_signal(signal.SIGCONT)
    else:
        assert node.link is not None  # every node has one when there are cuts
        node.link.cut()
        try:
            yield
        finally:
            node.link.heal()


def settle(url: str, acked: int) -> list[str]:
    """Wait until every acknowledged Work is done and nothing is pending; say what is not."""
    deadline = time.monotonic() + SETTLE_SECONDS
    pending = done = -1
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                pending, done = counts(conn)
        except psycopg.OperationalError:
            pass  # the server may still be coming back
        if pending == 0 and done >= acked:
            return []
        time.sleep(0.2)  # polling the journal, with a deadline
    owned = {node: sorted(actors) for node, actors in owners(url).items()}
    return [
        f"not settled after {SETTLE_SECONDS:.0f} s: {pending} pending, {done} Works done;"
        f" the running nodes own {owned}"
    ]


def counts(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE status = 'pending'),"
        " count(*) FILTER (WHERE status = 'done' AND type = 'ring.Work') FROM messages"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def check(url: str, acked: list[int], problems: list[str]) -> Outcome:
    """Count what was lost and duplicated, from the final states, the journal's messages and
    every state the actors' rows held."""
    decode = msgspec.msgpack.Decoder(RingState).decode
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT name, state FROM actors WHERE name LIKE 'ring/%'").fetchall()
        states = {str(name): decode(state) for name, state in rows}
        grouped = conn.execute("SELECT status, count(*) FROM messages GROUP BY status")
        statuses: dict[str, int] = {str(status): int(n) for status, n in grouped.fetchall()}
        works = {
            str(row[0]): str(row[1])
            for row in conn.execute("SELECT id, status FROM messages WHERE type = 'ring.Work'")
        }
        audit = conn.execute("SELECT name, state FROM ring_audit ORDER BY number").fetchall()
        left = conn.execute(
            "SELECT id, recipient, type, status, attempts FROM messages"
            " WHERE status <> 'done' ORDER BY seq LIMIT 5"
        ).fetchall()
    problems += [
        f"message {m_id} ({m_type} to {recipient}) is {status} after {attempts} attempt(s)"
        for m_id, recipient, m_type, status, attempts in left
    ]
    lost = duplicated = 0
    for index in range(ACTORS):
        state = states[ring_name(index)]
        predecessor = states[ring_name((index - 1) % ACTORS)]
        expected = len([k for k in acked if k % ACTORS == index])
        lost += (
            state.gaps + max(0, expected - state.works) + max(0, predecessor.sent - state.received)
        )
        duplicated += state.duplicates + max(0, state.works - expected)
        duplicated += max(0, state.received - predecessor.sent)
        if state.gaps or state.duplicates or state.works != expected:
            problems.append(f"{ring_name(index)}: {expected} Works acknowledged, {state}")
        if state.received != predecessor.sent:
            problems.append(
                f"{ring_name(index)}: received relays up to {state.received},"
                f" its predecessor sent {predecessor.sent}"
            )
    # The journal: every acknowledged Work is there and done; nothing else is left undone.
    lost += len([k for k in acked if works.get(f"work-{k}") != "done"])
    relays = sum(state.sent for state in states.values())
    if relays != (HOPS - 1) * len(acked):
        problems.append(f"{relays} relays sent for {len(acked)} Works, not {HOPS - 1} each")
    lost += int(statuses.get("dead", 0)) + int(statuses.get("pending", 0))
    # Every state written: each moves on from the one before (a stale owner's does not).
    if not audit:
        problems.append("no state was audited: the trigger saw no commit")
    last: dict[str, int] = {}
    before: dict[str, RingState] = {}
    for name, state in audit:
        written = decode(state)
        turns = written.turns
        if turns <= last.get(str(name), -1):
            duplicated += 1
            problems.append(f"{name}: a state of turn {turns} written after turn {last[name]}")
        last[str(name)] = max(turns, last.get(str(name), -1))
        previous = before.get(str(name))
        if previous is not None and (
            written.gaps > previous.gaps or written.duplicates > previous.duplicates
        ):  # where it went wrong: the states either side, and who wrote them
            problems.append(f"{name}: {previous} then {written}")
        before[str(name)] = written
    details = {
        "turns": sum(state.turns for state in states.values()),
        "states_audited": len(audit),
        "done": int(statuses.get("done", 0)),
    }
    return Outcome(0, 0, 0, len(acked), lost, duplicated, 0, [], problems, details)


def handled_lines(logs: Path) -> list[tuple[float, str, int]]:
    """Every handled message the nodes' processes noted: (time, actor, pid), in time order."""
    lines = []
    for path in logs.glob("handled-*.log"):
        pid = int(path.stem.rsplit("-", 1)[1])
        for line in path.read_text().splitlines():
            at, actor = line.split()
            lines.append((float(at), actor, pid))
    return sorted(lines)


def failovers(logs: Path, killed: list[Kill]) -> list[str]:
    """For each kill, the time until another process handled one of the ring actors the killed
    node owned (by the journal's shards; without them, the actors it handled last), in
    `Kill.failover`; one line each."""
    lines = handled_lines(logs)
    names = {
        int(path.stem.rsplit("-", 1)[1]): path.stem.split("-")[1]
        for path in logs.glob("handled-*.log")
    }
    told = []
    for kill in killed:
        owned = kill.owned
        if owned is None:  # the actors it handled last
            last_by: dict[str, int] = {}
            for at, actor, pid in lines:
                if at >= kill.at:
                    break
                last_by[actor] = pid
            owned = {actor for actor, pid in last_by.items() if pid == kill.pid}
        after = [
            (at, actor, pid)
            for at, actor, pid in lines
            if at > kill.at and actor in owned and pid != kill.pid
        ]
        what = f"kill of {kill.node} (pid {kill.pid}), owning {len(owned)} ring actor(s)"
        if after:
            at, actor, pid = after[0]
            kill.failover = at - kill.at
            what += f": {actor} handled {kill.failover:.3f} s later by {names.get(pid)} (pid {pid})"
        elif owned:
            what += ": none of them handled again"
        told.append(what)
    return told


HOLDING = """
SELECT a.state, extract(epoch FROM now() - a.xact_start),
    (SELECT count(*) FROM pg_stat_activity AS w WHERE a.pid = ANY(pg_blocking_pids(w.pid))),
    left(regexp_replace(a.query, '[[:space:]]+', ' ', 'g'), 80)
FROM pg_stat_activity AS a
WHERE a.client_addr = %s::inet AND a.xact_start IS NOT NULL
"""
"""The sessions of one node (by its link's address) inside a transaction: their state, how
long the transaction has been open, how many other sessions wait for their locks, and the
start of their last statement."""


def holding(url: str, node: Node) -> str:
    """What `node`'s sessions in a transaction are doing, as the server sees them; "" when
    the node has no link (its sessions are not told apart) or the server cannot say."""
    if node.link is None:
        return ""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            rows = conn.execute(HOLDING, (node.link.node_address,)).fetchall()
    except psycopg.Error:
        return ""
    return "; ".join(
        f"a session {state} for {float(age or 0):.1f} s, {int(waiting)} waiting on its locks"
        f" (last statement: {query})"
        for state, age, waiting, query in rows
    )


def taken_over(logs: Path, paused: list[Pause]) -> list[str]:
    """For each pause: how many of its node's ring actors other nodes owned at its end, and
    when another process first handled one of them; one line each."""
    lines = handled_lines(logs)
    told = []
    for pause in paused:
        what = "SIGSTOP" if pause.how == "stop" else "cut off"
        line = f"{pause.node} (pid {pause.pid}) {what} {pause.until - pause.at:.1f} s, owning"
        line += f" {len(pause.owned)} ring actor(s): {pause.taken} owned by others at its end"
        during = [
            at
            for at, actor, pid in lines
            if pause.at < at <= pause.until and actor in pause.owned and pid != pause.pid
        ]
        if during:
            line += f", one handled by another process {during[0] - pause.at:.3f} s in"
        if pause.holding:
            line += f"; at its end, the server had {pause.holding}"
        told.append(line)
    return told


def fenced_commits(server_log: Path) -> int:
    """The commits the database refused for want of ownership, as its log counts them."""
    return sum(
        1
        for line in server_log.read_text(errors="replace").splitlines()
        if "ERROR:" in line and any(f" {code} " in line for code in FENCE_CODES)
    )


def terminated(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kills", type=int)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--rate", type=float, default=150.0, help="Works per second")
    parser.add_argument("--stop-seconds", type=float, default=8.0, help="of each stop and cut")
    parser.add_argument("--stops", type=int, default=1, help="SIGSTOPs past the lease")
    parser.add_argument("--cuts", type=int, default=1, help="cuts past the lease (namespaces)")
    parser.add_argument(
        "--no-namespaces", action="store_true", help="nodes in this namespace, SIGSTOPs only"
    )
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    print(f"seed={args.seed} nodes={args.nodes}", flush=True)
    signal.signal(signal.SIGTERM, terminated)  # the namespaces are removed on SIGTERM too
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run(
            args.kills,
            args.nodes,
            args.seed,
            args.dir or Path(tmp),
            rate=args.rate,
            stop_seconds=args.stop_seconds,
            stops=args.stops,
            cuts=args.cuts,
            namespaces=not args.no_namespaces,
        )
    print(outcome.mode)
    for line in outcome.told:
        print(line)
    for problem in outcome.problems:
        print(f"problem: {problem}")
    print(outcome.details_line())
    print(outcome.failover_line())
    print(outcome.line())
    sys.exit(0 if outcome.ok else 1)


if __name__ == "__main__":
    main()
