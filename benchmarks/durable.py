"""Durable-journal benchmarks: group commits, sequential tells, many senders, recovery time.

Every journal lives in a fresh temporary directory (on the disk that holds /tmp), and so do the
baselines' files: plain `sqlite3` doing the same kind of writes, and the disk's own fsync rate.
The recovery benchmark builds its large journal once and caches it in ``benchmarks/.cache``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import msgspec

import actorflow as af
import fsync_rate
from fsync_rate import FSYNC_BYTES
from harness import (
    FULL,
    REPORT,
    Row,
    Sizes,
    alternate,
    at_least,
    at_most,
    expect,
    now_ns,
    per_second,
)

if TYPE_CHECKING:
    from actorflow import JournalStatistics  # what journal_statistics() returns

DURABLE_WARMUP = 100
"""Tells handled before `durable_sequential` starts timing (`durable_throughput`: one per actor)."""

CACHE = Path(__file__).resolve().parent / ".cache"
"""Where `recovery_time` keeps the journals it built; delete it to rebuild them."""

CACHE_GITIGNORE = (
    "# Journals built by benchmarks/durable.py: rebuilt when missing.\n*\n!.gitignore\n"
)

CACHE_FORMAT = 2  # 2: journal schema 2
"""Bump when what `build_recovery_journal` writes changes, so that stale caches are not reused."""

BASELINE_BATCH = 1_000
"""Rows per transaction in the plain-sqlite3 baseline of `durable_throughput`."""

RECOVERY_TIMEOUT = 300.0
"""Seconds a recovery round may take before the run fails instead of waiting for ever."""

MANY_SENDERS = 20
"""Concurrent senders in `durable_many_senders`, each awaiting its own tells to one actor."""

_encode = msgspec.msgpack.Encoder().encode


class Add(af.Message, tag="bench.Add"):
    """Adds `n` to a durable counter's total."""

    n: int


class Total(af.State):
    """A durable counter's state, committed after every handled message."""

    total: int = 0


class DurableCounter(af.Actor[Total], kind="bench.counter"):
    """Adds up `Add` messages in its durable state."""

    def on_add(self, msg: Add) -> None:
        self.state.total += msg.n


@dataclass(slots=True)
class RecoveryProbe:
    """Notes when the first and the last of `expected` recovered messages were handled."""

    expected: int
    count: int = 0
    first_ns: int | None = None
    last_ns: int | None = None
    all_handled: asyncio.Event = field(default_factory=asyncio.Event)

    def handled(self) -> None:
        moment = now_ns()
        if self.first_ns is None:
            self.first_ns = moment
        self.count += 1
        if self.count == self.expected:
            self.last_ns = moment
            self.all_handled.set()


class RecoveringCounter(af.Actor[Total], kind="bench.recovering"):
    """A durable counter re-created from the journal by its kind; tells `probe` when it works."""

    probe: ClassVar[RecoveryProbe | None] = None

    def on_add(self, msg: Add) -> None:
        self.state.total += msg.n
        probe = RecoveringCounter.probe
        if probe is not None:
            probe.handled()


@contextlib.contextmanager
def scratch_directory() -> Iterator[Path]:
    """A fresh temporary directory on the disk of /tmp, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="actorflow-bench-", dir=tempfile.gettempdir()) as d:
        yield Path(d)


def actor_names(count: int) -> list[str]:
    return [f"counter-{i}" for i in range(count)]


def new_id() -> str:
    """A message id like actorflow's: 96 random bits as hex."""
    return os.urandom(12).hex()


# -- throughput --------------------------------------------------------------------------------


async def durable_throughput(sizes: Sizes) -> list[Row]:
    """Many durable actors fed concurrently, against plain sqlite3 doing the same kind of writes.

    One producer task per actor awaits ``tell`` in a loop; a tell returns once its message is
    committed, so it is the number of producers that fills the group commits. Timed from the
    first tell until every message is handled and its done-mark and state are committed.
    """
    actors, count = sizes.durable_actors, sizes.durable_messages
    commits: dict[float, str] = {}  # msg/s of a round -> how the journal committed its messages
    with scratch_directory() as directory:
        samples = await alternate(
            sizes.rounds,
            {
                "sqlite3": partial(sqlite_writes, directory, actors, count),
                "actorflow": partial(actorflow_throughput, directory, actors, count, commits),
            },
        )
    rate = max(samples["actorflow"])
    note = (
        f"{count:,} messages to {actors:,} actors, one producer each; {commits[rate]}; baseline:"
        f" plain sqlite3 rows/s, one thread, WAL + synchronous=FULL, {BASELINE_BATCH:,} inserts"
        " + per-actor state updates per transaction"
    )
    return [
        Row(
            "durable_throughput",
            rate,
            "msg/s",
            at_least(0.5),
            max(samples["sqlite3"]),
            note=note,
        ),
        Row(
            "durable_throughput_rate",
            rate,
            "msg/s",
            at_least(50_000),
            note="durable_throughput's msg/s against an absolute target",
        ),
    ]


async def actorflow_throughput(
    directory: Path, actors: int, count: int, commits: dict[float, str]
) -> float:
    """Messages per second; notes in `commits` how the journal committed them while timed."""
    path = directory / f"throughput-{new_id()}.db"
    per_producer, rest = divmod(count, actors)
    expect("messages per producer (count % actors)", rest, 0)
    async with af.ActorSystem(journal=path) as system:
        refs = await asyncio.gather(
            *(system.spawn(DurableCounter, name=name) for name in actor_names(actors))
        )
        await asyncio.gather(*(produce(ref, 1) for ref in refs))
        await system.wait_idle()
        rate = await timed_tells(system, [(ref, per_producer) for ref in refs], count, commits)
    _remove_journal(path)
    return rate


async def timed_tells(
    system: af.ActorSystem,
    producers: list[tuple[af.ActorRef[DurableCounter], int]],
    count: int,
    commits: dict[float, str],
) -> float:
    """Messages per second of concurrent producers (a ref and how many tells each), timed
    until every message is handled and committed; notes in `commits` how they committed."""
    before = system.journal_statistics()
    handled_before = system.statistics().handled
    start = now_ns()
    await asyncio.gather(*(produce(ref, tells) for ref, tells in producers))
    await system.wait_idle()
    elapsed = now_ns() - start
    after = system.journal_statistics()
    expect("durable messages handled", system.statistics().handled - handled_before, count)
    rate = per_second(count, elapsed)
    commits[rate] = describe_commits(before, after, count)
    return rate


async def produce(ref: af.ActorRef[DurableCounter], count: int) -> None:
    msg = Add(1)
    for _ in range(count):
        await ref.tell(msg)


async def sqlite_writes(directory: Path, actors: int, count: int) -> float:
    """Rows per second: plain sqlite3 doing the journal's kind of writes, in one thread."""
    path = directory / f"baseline-{new_id()}.db"
    rate = sqlite_rows(path, actors, count)
    _remove_journal(path)
    return rate


def sqlite_rows(path: Path, actors: int, count: int) -> float:
    """Insert `count` message rows, updating the recipient's state row for each, in batches.

    The same pragmas as actorflow's journal (WAL, synchronous=FULL), a messages-like table with
    a unique text id, and one state row per actor; ids and state bytes are made while timed, as
    actorflow makes them.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(
            "CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL"
            " UNIQUE, recipient TEXT NOT NULL, type TEXT NOT NULL, body BLOB NOT NULL,"
            " created_at REAL NOT NULL, status TEXT NOT NULL DEFAULT 'pending')"
        )
        conn.execute(
            "CREATE TABLE actors (name TEXT PRIMARY KEY, state BLOB, handled INTEGER NOT NULL,"
            " updated_at REAL NOT NULL)"
        )
        names = actor_names(actors)
        conn.executemany("INSERT INTO actors VALUES (?, NULL, 0, 0)", [(name,) for name in names])
        body = _encode(Add(1))
        totals = dict.fromkeys(names, 0)
        start = now_ns()
        for first in range(0, count, BASELINE_BATCH):
            now = time.time()
            messages = []
            states = []
            for i in range(first, min(first + BASELINE_BATCH, count)):
                name = names[i % actors]
                messages.append((new_id(), name, "bench.Add", body, now))
                totals[name] += 1
                states.append((_encode(Total(totals[name])), now, name))
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO messages (id, recipient, type, body, created_at, status)"
                " VALUES (?, ?, ?, ?, ?, 'done')",
                messages,
            )
            conn.executemany(
                "UPDATE actors SET state = ?, handled = handled + 1, updated_at = ? WHERE name = ?",
                states,
            )
            conn.execute("COMMIT")
        elapsed = now_ns() - start
        (rows,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    finally:
        conn.close()
    expect("sqlite3 rows", rows, count)
    return per_second(count, elapsed)


# -- sequential --------------------------------------------------------------------------------


async def durable_sequential(sizes: Sizes) -> list[Row]:
    """One durable actor, one ``await ref.tell()`` after another, against the disk's fsync rate.

    Nothing else is in flight, so every tell pays (at least) a commit of its own: the rate
    to beat is how many fsyncs per second the disk does, measured in the same run.
    """
    commits: dict[float, str] = {}
    with scratch_directory() as directory:
        samples = await alternate(
            sizes.rounds,
            {
                "fsync": partial(fsyncs_per_second, directory, sizes.fsyncs),
                "actorflow": partial(actorflow_sequential, directory, sizes.durable_tells, commits),
            },
        )
    rate = max(samples["actorflow"])
    note = (
        f"{sizes.durable_tells:,} tells one after another to one actor, then wait_idle;"
        f" {commits[rate]};"
        f" baseline: os.write of {len(FSYNC_BYTES)} bytes + os.fsync per second"
        f" ({sizes.fsyncs:,} of them) in the same directory"
    )
    return [
        Row(
            "durable_sequential",
            rate,
            "msg/s",
            at_least(0.5),
            max(samples["fsync"]),
            note=note,
        )
    ]


async def actorflow_sequential(directory: Path, count: int, commits: dict[float, str]) -> float:
    """Messages per second; notes in `commits` how the journal committed them while timed."""
    path = directory / f"sequential-{new_id()}.db"
    async with af.ActorSystem(journal=path) as system:
        ref = await system.spawn(DurableCounter, name="counter")
        await produce(ref, DURABLE_WARMUP)
        await system.wait_idle()
        before = system.journal_statistics()
        start = now_ns()
        await produce(ref, count)
        await system.wait_idle()
        elapsed = now_ns() - start
        after = system.journal_statistics()
        handled = ref.statistics().handled
    expect("durable messages handled", handled, DURABLE_WARMUP + count)
    rate = per_second(count, elapsed)
    commits[rate] = describe_commits(before, after, count)
    _remove_journal(path)
    return rate


async def fsyncs_per_second(directory: Path, count: int) -> float:
    """Append a small record and fsync it, `count` times: the disk's durable-write rate."""
    return fsync_rate.fsyncs_per_second(directory, count)


# -- many senders ------------------------------------------------------------------------------


async def durable_many_senders(sizes: Sizes) -> list[Row]:
    """One durable actor, `MANY_SENDERS` tasks each awaiting ``tell`` in a loop.

    Up to `MANY_SENDERS` tells are in flight at once, so a journal that commits them in groups
    (and the actor's done-marks with them) is not held to one fsync per message; the target,
    from "A journal that costs what SQLite costs", is absolute. The disk's fsync rate, measured
    in the same run, is the baseline: the ratio is messages handled per fsync the disk could do.
    """
    count = sizes.many_senders_tells
    commits: dict[float, str] = {}
    with scratch_directory() as directory:
        samples = await alternate(
            sizes.rounds,
            {
                "fsync": partial(fsyncs_per_second, directory, sizes.fsyncs),
                "actorflow": partial(actorflow_many_senders, directory, count, commits),
            },
        )
    rate = max(samples["actorflow"])
    note = (
        f"{count:,} tells to one actor from {MANY_SENDERS} concurrent senders"
        f" ({count // MANY_SENDERS:,} each, each awaiting its tell), then wait_idle;"
        f" {commits[rate]}; the target applies to msg/s; baseline: os.write of"
        f" {len(FSYNC_BYTES)} bytes + os.fsync per second ({sizes.fsyncs:,} of them) in the same"
        " directory, so the ratio is messages per fsync"
    )
    return [
        Row(
            "durable_many_senders",
            rate,
            "msg/s",
            at_least(10_000, absolute=True),
            max(samples["fsync"]),
            note=note,
        )
    ]


async def actorflow_many_senders(directory: Path, count: int, commits: dict[float, str]) -> float:
    """Messages per second; notes in `commits` how the journal committed them while timed."""
    path = directory / f"many-senders-{new_id()}.db"
    per_sender, rest = divmod(count, MANY_SENDERS)
    expect("messages per sender (count % senders)", rest, 0)
    async with af.ActorSystem(journal=path) as system:
        ref = await system.spawn(DurableCounter, name="counter")
        await asyncio.gather(
            *(produce(ref, DURABLE_WARMUP // MANY_SENDERS) for _ in range(MANY_SENDERS))
        )
        await system.wait_idle()
        rate = await timed_tells(system, [(ref, per_sender)] * MANY_SENDERS, count, commits)
    _remove_journal(path)
    return rate


# -- recovery ----------------------------------------------------------------------------------


async def recovery_time(sizes: Sizes) -> list[Row]:
    """Reopen a large journal: time until the first, and the last, pending message is handled.

    The journal (done and pending messages spread over many durable actors) is built once and
    cached; each round copies it, since recovery changes it, and times from the start of
    ``ActorSystem.__aenter__``. The copy has just been written, so it is in the page cache.
    """
    done, pending, actors = sizes.recovery_done, sizes.recovery_pending, sizes.recovery_actors
    cached = await recovery_journal(done, pending, actors)
    firsts: list[float] = []
    lasts: list[float] = []
    starts: list[float] = []
    with scratch_directory() as directory:
        for _ in range(sizes.rounds):
            first, last, started = await actorflow_recovery(cached, directory, pending)
            firsts.append(first)
            lasts.append(last)
            starts.append(started)
    what = f"{done:,} done + {pending:,} pending messages across {actors:,} actors"
    if (done, pending, actors) != (FULL.recovery_done, FULL.recovery_pending, FULL.recovery_actors):
        what += (
            f" (smaller than the full run's {FULL.recovery_done:,} + {FULL.recovery_pending:,}"
            f" across {FULL.recovery_actors:,})"
        )
    return [
        Row(
            "recovery_time",
            min(firsts),
            "s",
            at_most(2.0),
            note=(
                f"{what}: from ActorSystem.__aenter__ until the first pending message is"
                f" handled (__aenter__ itself returned after {min(starts):.2f} s)"
            ),
        ),
        Row(
            "recovery_all_pending",
            min(lasts),
            "s",
            REPORT,
            note="the same, until every pending message is handled",
        ),
    ]


async def actorflow_recovery(cached: Path, directory: Path, pending: int) -> tuple[float, ...]:
    """Seconds from ``__aenter__`` to the first and the last handled message, and to its return."""
    path = directory / "recovery.db"
    shutil.copyfile(cached, path)
    probe = RecoveringCounter.probe = RecoveryProbe(pending)
    try:
        start = now_ns()
        system = af.ActorSystem(journal=path)
        async with system:
            entered = now_ns()
            try:
                await asyncio.wait_for(probe.all_handled.wait(), RECOVERY_TIMEOUT)
            except TimeoutError:
                raise RuntimeError(
                    f"recovery: {probe.count} of {pending} pending messages handled after"
                    f" {RECOVERY_TIMEOUT:g} s"
                ) from None
            await system.wait_idle()
            stats = system.statistics()
    finally:
        RecoveringCounter.probe = None
        _remove_journal(path)
    expect("recovered messages handled", stats.handled, pending)
    assert probe.first_ns is not None
    assert probe.last_ns is not None
    return (
        (probe.first_ns - start) / 1e9,
        (probe.last_ns - start) / 1e9,
        (entered - start) / 1e9,
    )


async def recovery_journal(done: int, pending: int, actors: int) -> Path:
    """The cached journal of these sizes, built first if it is not there yet."""
    path = CACHE / f"recovery-v{CACHE_FORMAT}-{done}d-{pending}p-{actors}a.db"
    if path.exists():
        return path
    CACHE.mkdir(exist_ok=True)
    ignore = CACHE / ".gitignore"
    if not ignore.exists():
        ignore.write_text(CACHE_GITIGNORE)
    building = CACHE / f"building-{new_id()}.db"
    try:
        await build_recovery_journal(building, done, pending, actors)
        os.replace(building, path)
    finally:
        _remove_journal(building)
    return path


async def build_recovery_journal(path: Path, done: int, pending: int, actors: int) -> None:
    """Write a journal of `done` handled and `pending` waiting messages for `actors` actors.

    actorflow itself creates the schema and registers the first actor; plain sqlite3 then
    copies that registration (kind, constructor arguments, options) for the others and appends
    the messages in actorflow's row format, done ones first and spread round-robin.
    """
    names = actor_names(actors)
    async with af.ActorSystem(journal=path) as system:
        await system.spawn(RecoveringCounter, name=names[0])
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        kind, args, options = conn.execute(
            "SELECT kind, args, options FROM actors WHERE name = ?", (names[0],)
        ).fetchone()
        expect("registered kind", kind, RecoveringCounter.__actorflow_kind__)
        per_actor, rest = divmod(done, actors)
        now = time.time()
        conn.execute("BEGIN")
        conn.execute("DELETE FROM actors")
        conn.executemany(
            "INSERT INTO actors (name, kind, args, options, state, supervisor, handled,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)",
            (
                (
                    name,
                    kind,
                    args,
                    options,
                    _encode(Total(per_actor + (i < rest))),
                    per_actor + (i < rest),
                    now,
                    now,
                )
                for i, name in enumerate(names)
            ),
        )
        body = _encode(Add(1))
        columns = "id, recipient, type, body, created_at, attempts, status, done_at"
        conn.executemany(
            f"INSERT INTO messages ({columns}) VALUES (?, ?, 'bench.Add', ?, ?, 1, 'done', ?)",
            ((new_id(), names[i % actors], body, now, now) for i in range(done)),
        )
        conn.executemany(
            f"INSERT INTO messages ({columns}) VALUES (?, ?, 'bench.Add', ?, ?, 0, 'pending',"
            " NULL)",
            ((new_id(), names[i % actors], body, now) for i in range(pending)),
        )
        conn.execute("COMMIT")
        (waiting,) = conn.execute(
            "SELECT count(*) FROM messages WHERE status = 'pending'"
        ).fetchone()
    finally:
        conn.close()
    expect("pending messages in the built journal", waiting, pending)


def describe_commits(
    before: JournalStatistics | None, after: JournalStatistics | None, messages: int
) -> str:
    """How the journal committed `messages` between two snapshots of its statistics."""
    assert before is not None
    assert after is not None
    commits = after.commits - before.commits
    operations = after.operations - before.operations
    seconds = after.total_commit_seconds - before.total_commit_seconds
    return (
        f"{commits:,} commits, {messages / commits:,.2f} messages and"
        f" {operations / commits:,.1f} operations per commit, {seconds * 1e3 / commits:.2f} ms each"
    )


def _remove_journal(path: Path) -> None:
    """Delete a journal file and its -wal and -shm companions, if they exist."""
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
