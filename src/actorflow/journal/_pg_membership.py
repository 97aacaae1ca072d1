"""One node's place among the nodes sharing a PostgreSQL journal: its lease and its shards (C2).

A node registers under its name (refused while another live node holds it), then, every third
of its lease, on a connection of its own (never the writer's), renews its lease and looks at
the shards: it notes those it lost (another node claimed them while it was paused or cut off),
claims free ones and those of nodes whose lease lapsed, up to its fair share of
``ceil(shards / live nodes)``, and releases what it holds beyond that share so that a node that
joined can take it: its actors stop first (their commits land), then the owner is cleared.
Whenever what it holds changes, it awaits `changed`; a clean leave releases everything and
deletes its row, so the others take over at once.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from typing import Any, Final

import anyio
import psycopg

from .._errors import JournalError, NodeNameTaken
from . import _pg_cluster as cluster
from ._pg_arrays import Int8Array, TextArray
from ._pg_errors import translate

__all__ = ["DEFAULT_LEASE", "Membership", "default_node_name", "end_idle_transactions"]

logger = logging.getLogger("actorflow")

DEFAULT_LEASE: Final = 3.0
"""Seconds a node's lease lasts unless renewed (C3: failover lands within 5 s)."""


def default_node_name() -> str:
    """``{hostname}-{pid}``: unique enough among the nodes of one journal."""
    return f"{socket.gethostname()}-{os.getpid()}"


class Membership:
    """This node's lease and shards (internal to `PostgresJournal`)."""

    def __init__(
        self,
        conninfo: str,
        journal: str,
        node: str,
        lease: float,
        connect_timeout: float,
    ) -> None:
        if not lease > 0:
            raise ValueError(f"lease must be a positive number of seconds, not {lease!r}")
        self.conninfo = conninfo
        self.journal = journal  # its name, for messages
        self.node = node
        self.lease = lease
        self.connect_timeout = connect_timeout
        self.incarnation = secrets.token_hex(8)
        self.shard_count = cluster.DEFAULT_SHARDS
        self.held: dict[int, int] = {}  # shard -> the epoch it was claimed at
        self.releasing: set[int] = set()  # held, its actors stopping, about to be released
        # Shards lost, and the request that tells the system so: not claimed again before the
        # system has been told and its actors of them stopped (see `_look`).
        self._lost_until: dict[int, int] = {}
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._changed: Callable[[], Awaitable[None]] | None = None
        self._db = anyio.Lock()  # one transaction at a time on its connection
        self._tasks: anyio.abc.TaskGroup | None = None
        self._asked = 0  # requests to tell the system of a change, so far
        self._told_upto = 0  # the last request the system has been told of
        self._ask = anyio.Event()
        self._told_event = anyio.Event()

    # -- what the journal asks -------------------------------------------------------------------

    def owns(self, actor: str) -> bool:
        """Whether this node holds the shard of `actor` and is not handing it over."""
        shard = cluster.shard_of(actor, self.shard_count)
        return shard in self.held and shard not in self.releasing

    def fence(self, names: list[str], messages: list[str], timers: list[str]) -> tuple[Any, ...]:
        """The parameters of `_pg_cluster.FENCE` for a batch writing these: the shards of
        `names` computed here (`shard_of` is the database's ``actorflow_shard``)."""
        shards = sorted(self.held)
        count = self.shard_count
        touched = sorted({cluster.shard_of(name, count) for name in names})
        return (
            self.node,
            self.incarnation,
            count,
            Int8Array(shards, "a held shard"),
            Int8Array([self.held[s] for s in shards], "a held epoch"),
            Int8Array(touched, "a shard written"),
            TextArray(messages, "a message id"),
            TextArray(timers, "a timer id"),
        )

    # -- joining and leaving -------------------------------------------------------------------

    async def join(self, changed: Callable[[], Awaitable[None]]) -> None:
        """Register the node and claim its share; then keep renewing in the background.

        Raises `NodeNameTaken` if a live node holds the name, `JournalError` subclasses.
        """
        self._changed = changed
        conn = await self._connect()
        try:
            async with conn.transaction():
                await self._reap(conn)
                cur = await conn.execute(
                    cluster.JOIN,
                    (self.node, self.incarnation, socket.gethostname(), os.getpid(), self.lease),
                )
                if await cur.fetchone() is None:
                    raise NodeNameTaken(
                        f"node name {self.node!r} is held by a live node of {self.journal};"
                        " give this node another name (--node), or wait until that node's"
                        f" lease ({self.lease:g} s) lapses"
                    )
                # Shards an earlier, dead incarnation of this name held are nobody's now:
                # claimed anew, this node's share by it and the rest by the others (the
                # others see the name live again and would never take them).
                await conn.execute(cluster.ORPHANED, (self.node,))
                cur = await conn.execute("SELECT value FROM actorflow_meta WHERE key = 'shards'")
                row = await cur.fetchone()
                self.shard_count = int(row[0]) if row is not None else cluster.DEFAULT_SHARDS
        except psycopg.Error as exc:
            await conn.close()
            raise translate(exc, f"cannot join {self.journal} as node {self.node}") from exc
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        await self._round(initial=True)

    async def _reap(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Remove the rows of nodes of this host whose process has died (a node killed and
        started again): their shards are free at once, not a lease later.

        Only a speed-up: if it misjudges a live node as dead (another pid namespace under the
        same host name), that node's commits are fenced and it claims shards again; nothing
        is ever handled twice, since the fence is the database's.
        """
        cur = await conn.execute(cluster.LOCAL_NODES, (socket.gethostname(),))
        for node, pid in await cur.fetchall():
            if int(pid) != os.getpid() and not _process_alive(int(pid)):
                await conn.execute(cluster.REAP, (node, pid))
                logger.info(
                    "node %s: node %s of this host died (pid %s); its shards are free",
                    self.node,
                    node,
                    pid,
                )

    async def run(self) -> None:
        """Renew and rebalance every third of the lease until cancelled.

        Telling the system about a change (which stops actors, and may wait for a handler to
        finish) and handing shards over run in tasks of their own: the lease is renewed on
        time whatever they wait for.
        """
        async with anyio.create_task_group() as tg:
            self._tasks = tg
            tg.start_soon(self._tell_changes)
            while True:
                await anyio.sleep(self.lease / 3)
                try:
                    await self._round(initial=False)
                except JournalError as exc:
                    logger.warning("node %s: renewing its lease failed: %s", self.node, exc)
                    await self._reconnect()
                except Exception:  # a bug must not stop the renewals: the node would lapse
                    logger.exception("node %s: renewing its lease failed", self.node)

    async def leave(self) -> None:
        """Release the shards it holds and delete the node's row (a clean shutdown)."""
        conn = self._conn
        self._conn = None
        if conn is None:
            return
        held, self.held = self.held, {}
        shards = sorted(held)
        with anyio.CancelScope(shield=True), contextlib.suppress(psycopg.Error):
            async with self._db:
                if not conn.closed and not conn.broken:
                    async with conn.transaction():
                        await conn.execute(
                            cluster.RELEASE, (shards, [held[s] for s in shards], self.node)
                        )
                        await conn.execute(cluster.LEAVE, (self.node, self.incarnation))
                await conn.close()

    # -- telling the system --------------------------------------------------------------------

    def _tell(self) -> int:
        """Ask for the system to be told that what it owns changed; the request's number."""
        self._asked += 1
        self._ask.set()
        return self._asked

    async def _told(self, request: int) -> None:
        """Wait until the system has been told of request `request` (or a later one)."""
        while self._told_upto < request:
            await self._told_event.wait()

    async def _tell_changes(self) -> None:
        """Await `changed` once per batch of requests, one at a time."""
        while True:
            await self._ask.wait()
            self._ask = anyio.Event()
            request = self._asked
            if self._changed is not None:
                try:
                    await self._changed()
                except Exception:
                    logger.exception("node %s: taking a change of ownership in failed", self.node)
            self._told_upto = request
            told, self._told_event = self._told_event, anyio.Event()
            told.set()

    async def renew(self) -> None:
        """Renew the lease now and look at the shards (a commit found the lease lapsed)."""
        await self._round(initial=False)

    # -- one round ----------------------------------------------------------------------------

    async def _round(self, *, initial: bool) -> None:
        async with self._db:
            changed = await self._look(initial=initial)
        if changed and not initial:
            self._tell()

    async def _look(self, *, initial: bool) -> bool:
        """Renew, note what was lost, claim up to the fair share, start handing over what is
        beyond it; whether what it owns changed."""
        conn = self._conn
        if conn is None:
            return False
        try:
            async with conn.transaction():
                renewed = await (
                    await conn.execute(cluster.RENEW, (self.node, self.incarnation))
                ).fetchone()
                rows = await (await conn.execute(cluster.SHARDS)).fetchall()
                live = [
                    str(r[0]) for r in await (await conn.execute(cluster.LIVE_NODES)).fetchall()
                ]
        except psycopg.Error as exc:
            raise translate(
                exc, f"node {self.node} cannot renew its lease in {self.journal}"
            ) from exc
        changed = False
        if renewed is None:
            if self.held:
                logger.error(
                    "node %s: its name was taken over after its lease lapsed; it owns nothing now",
                    self.node,
                )
            kept: dict[int, int] = {}
        else:
            mine = {int(s): int(e) for s, owner, e in rows if owner == self.node}
            kept = {s: e for s, e in self.held.items() if mine.get(s) == e}
        lost = set(self.held) - set(kept)
        if lost:
            logger.warning(
                "node %s lost %d shard(s) to other nodes (its lease lapsed meanwhile): %s",
                self.node,
                len(lost),
                sorted(lost),
            )
            self.held = kept
            self.releasing -= lost
            changed = True
            # The round's end asks to tell the system (`_round`): that request, the next one.
            self._lost_until.update(dict.fromkeys(lost, self._asked + 1))
        # A shard lost and claimed again in one round would leave the system believing it
        # never lost it: its actors would keep the state and the mailbox they had before the
        # loss, and commit them at the new epoch, past the fence (C2, J3; the cluster kill
        # loop found it: a node paused past its lease, the node that took its shards killed).
        # It is claimed again once the system has been told, and its actors stopped.
        self._lost_until = {s: r for s, r in self._lost_until.items() if r > self._told_upto}
        if renewed is None:
            return changed
        quota = math.ceil(self.shard_count / max(len(live), 1))
        if len(self.held) > quota:
            if not initial and not self.releasing and self._tasks is not None:
                self._tasks.start_soon(self._release, sorted(self.held)[quota:])
        elif len(self.held) < quota:
            live_set = set(live)
            free = [
                int(s)
                for s, owner, _ in rows
                if int(s) not in self.held
                and int(s) not in self._lost_until
                and (owner is None or owner == self.node or owner not in live_set)
            ]
            if free and await self._claim(free[: quota - len(self.held)]):
                changed = True
        return changed

    async def _claim(self, shards: list[int]) -> dict[int, int]:
        conn = self._conn
        assert conn is not None
        try:
            async with conn.transaction():
                await conn.execute("SET LOCAL lock_timeout = '1s'")
                cur = await conn.execute(cluster.CLAIM, {"node": self.node, "shards": shards})
                claimed = {int(s): int(e) for s, e in await cur.fetchall()}
        except psycopg.Error as exc:
            if exc.sqlstate == "55P03":  # a commit in flight held a shard past the timeout
                return {}
            raise translate(exc, f"node {self.node} cannot claim shards in {self.journal}") from exc
        if claimed:
            logger.info("node %s claimed %d shard(s): %s", self.node, len(claimed), sorted(claimed))
        self.held.update(claimed)
        return claimed

    async def _release(self, shards: list[int]) -> None:
        """Hand `shards` over: stop their actors (their commits land), then clear the owner."""
        self.releasing.update(shards)
        try:
            await self._told(self._tell())
            async with self._db:
                conn = self._conn
                still = [s for s in shards if s in self.held]
                if conn is None or not still:
                    return
                try:
                    await conn.execute(
                        cluster.RELEASE, (still, [self.held[s] for s in still], self.node)
                    )
                except psycopg.Error as exc:
                    logger.warning(
                        "node %s: cannot release shards in %s, will try again: %s",
                        self.node,
                        self.journal,
                        exc,
                    )
                    return
                for s in still:
                    del self.held[s]
            logger.info(
                "node %s released %d shard(s) to joining nodes: %s", self.node, len(still), still
            )
        finally:
            self.releasing.difference_update(shards)
            if any(s in self.held for s in shards):
                self._tell()  # not released after all: its actors come back here

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.conninfo,
                autocommit=True,
                connect_timeout=max(1, round(self.connect_timeout)),
            )
        except psycopg.Error as exc:
            raise translate(exc, f"node {self.node} cannot connect to {self.journal}") from exc
        try:
            # A node cut off in the middle of a claim must not hold the shard rows it locked
            # past a lease (C3): the server ends such a session, and the others can claim.
            await end_idle_transactions(conn, self.lease)
        except psycopg.Error as exc:
            await conn.close()
            raise translate(exc, f"node {self.node} cannot set up its connection") from exc
        return conn

    async def _reconnect(self) -> None:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return
        with contextlib.suppress(psycopg.Error):
            if conn is not None:
                await conn.close()
        try:
            self._conn = await self._connect()
        except JournalError as exc:
            logger.warning("node %s: cannot reconnect to renew its lease: %s", self.node, exc)


def _process_alive(pid: int) -> bool:
    """Whether process `pid` of this host runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True  # no /proc to ask: it answered the signal
    return state != "Z"


async def end_idle_transactions(conn: psycopg.AsyncConnection[Any], seconds: float) -> None:
    """Have the server end `conn`'s session when a transaction of it sits idle for `seconds`:
    a node paused or cut off in the middle of one then holds its row locks no longer than
    that (C2, C3), and the transaction does not land."""
    await conn.execute(
        "SELECT set_config('idle_in_transaction_session_timeout', %s, false)",
        (f"{round(seconds * 1000)}ms",),
    )
