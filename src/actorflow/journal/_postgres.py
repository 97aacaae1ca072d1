"""The PostgreSQL journal backend, for one node (J8, J9, J12).

A group commit is one pipeline on a writer connection: ``BEGIN``, the commit's number (which
orders the writer's commits, `_pg_cluster`'s ``actorflow_follow``), one statement per kind of
change (rows as arrays), ``COMMIT``, sent together and answered in one round trip. There are
`depth` writer connections, taken in turn: the journal's writer sends the next commits while
one is on its way (`write_following`), and each waits at the server, on the writer's row, for
the one before it to end, going on only if it landed. So the server goes from one commit to the
next without waiting for this process (whose event loop, busy with the turns the last commit
woke, took ~7 ms to come back to it: half of the server's time went idle). Reads go through a
small pool of other connections, so inspection never waits for the writer (MVCC).

A connection lost in the middle of a commit leaves it unknown whether the commit landed; the
writer's row in ``actorflow_writers`` holds the number of its last commit, so after
reconnecting the journal reads it and either reports the commit (reading back the seqs) or
sends it again. Nothing is acknowledged that did not commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar, final

import anyio
import tenacity

from .._crashpoints import crash_point
from .._errors import (
    JournalCorrupt,
    JournalError,
    JournalSchemaError,
    JournalUnavailable,
    OwnershipLost,
)
from . import _rows
from ._backend import CommitNotFollowed
from ._pg_cluster import (
    CLUSTER_MIGRATIONS,
    CLUSTER_VERSION,
    LEASE_LAPSED,
    NOT_FOLLOWED,
    SHARD_NOT_HELD,
)
from ._pg_connect import shown
from ._pg_dialect import bind, postgres_sql
from ._pg_schema import MIGRATIONS, SCHEMA_VERSION
from ._records import (
    ActorRecord,
    Answer,
    Batch,
    Compacted,
    MessageRecord,
    TimerRecord,
    TurnRecord,
)
from ._rows import (
    ACTOR_COLUMNS,
    CONVERSATION_STEPS,
    CONVERSATION_TURNS,
    actor_row,
    read_actor,
    read_message_or_corrupt,
    turns_of,
)

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

    from . import _pg_asks as asks
    from . import _pg_cluster as cluster
    from . import _pg_statements as sql
    from ._pg_errors import RETRYABLE, translate
    from ._pg_membership import Membership, end_idle_transactions

__all__ = ["PostgresJournal", "is_postgres_url"]

logger = logging.getLogger("actorflow")

T = TypeVar("T")

_SCHEMA_LOCK: Final = 0x61666A73  # "afjs": one opener migrates at a time
_INSTALL: Final = "pip install 'actorflow[postgres]'"
_LAPSED_ATTEMPTS: Final = 3  # a commit refused for a lapsed lease: renewed and sent again


def _load_driver() -> ImportError | None:
    """Import psycopg, and what is written with it, into this module on first use; the
    ImportError if it is not installed.

    Not at import time: ``import actorflow`` stays as fast as before (psycopg and its pool cost
    ~0.1 s to import), and works without the postgres extra.
    """
    if "translate" in globals():
        return None
    try:
        import psycopg
        import psycopg.conninfo
        import psycopg_pool

        from . import _pg_asks, _pg_cluster, _pg_errors, _pg_membership, _pg_statements
    except ImportError as missing:
        return missing
    globals().update(
        psycopg=psycopg,
        psycopg_pool=psycopg_pool,
        asks=_pg_asks,
        sql=_pg_statements,
        cluster=_pg_cluster,
        Membership=_pg_membership.Membership,
        end_idle_transactions=_pg_membership.end_idle_transactions,
        RETRYABLE=_pg_errors.RETRYABLE,
        translate=_pg_errors.translate,
    )
    return None


def is_postgres_url(journal: object) -> bool:
    """True when `journal` is a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(journal, str) and journal.startswith(("postgresql://", "postgres://"))


@final
class PostgresJournal:
    """A journal in a PostgreSQL database (15 or later), for one running system at a time.

    `conninfo` is a ``postgresql://user:password@host:port/dbname`` URL or a libpq keyword
    string; the database (or the schema first in its ``search_path``) must hold an actorflow
    journal or no tables at all. The writer commits with ``synchronous_commit=on`` whatever the
    server's default, so an acknowledged message survives a crash of the server.

    `readers` is the number of pooled read connections. A lost connection (a restarted
    server) is reconnected, and the work retried, for up to `reconnect_timeout` seconds before
    `JournalUnavailable`; `connect_timeout` bounds each attempt to connect.

    A system running over it makes it a *node* (`join`, C2): `node` names it among the nodes
    sharing the database (default ``{hostname}-{pid}``), `lease` is how long its lease lasts
    unless renewed (renewed every third of it). Opened without joining (the CLI, scripts) it
    reads and appends like an outside producer and owns nothing.
    """

    depth: Final = 2
    """Commits on their way at once (`PipelinedWrites`), each on a writer connection of its
    own: the server finds the next commit waiting when one lands. (Three went slower: a third
    commit, sent right after the second on another connection, reached the server before it
    often enough to be refused as not following it, and was sent again.)"""

    def __init__(
        self,
        conninfo: str,
        *,
        readers: int = 4,
        reconnect_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        node: str | None = None,
        lease: float | None = None,
    ) -> None:
        missing = _load_driver()
        if missing is not None:
            raise JournalError(
                f"a PostgreSQL journal needs psycopg, which is not installed ({missing});"
                f" install it with: {_INSTALL}"
            )
        if readers < 1:
            raise ValueError(f"readers must be at least 1, not {readers!r}")
        try:
            params = psycopg.conninfo.conninfo_to_dict(conninfo)
        except psycopg.ProgrammingError as exc:  # its text quotes the string, password too
            raise JournalError(
                f"{shown(conninfo)} is not a PostgreSQL connection string libpq can read"
            ) from exc
        self.conninfo = conninfo
        self.readers = readers
        self.reconnect_timeout = reconnect_timeout
        self.connect_timeout = connect_timeout
        params.pop("password", None)
        self.name = psycopg.conninfo.make_conninfo("", **params)  # what errors and reprs show
        # `depth` writer connections, taken in turn: a commit goes on one while those before
        # it land on the others (`write_following`). Each is used by one commit at a time.
        self._writers: list[psycopg.AsyncConnection[Any] | None] = [None] * self.depth
        self._pool: psycopg_pool.AsyncConnectionPool[Any] | None = None
        self._locks = tuple(anyio.Lock() for _ in range(self.depth))
        self._connected: set[int] = set()  # the writer connections made since `open`
        self._writer_id = ""
        self._commits = 0  # the number of the last commit started (`actorflow_follow`)
        self._on_their_way: dict[int, anyio.Event] = {}  # commits called, not ended, by number
        self._listeners: set[asyncio.Task[None]] = set()
        # Set while a take of notices has not returned: its DELETE may have committed on the
        # server with the answer lost on the way (a cut connection, a cancelled call).
        self._notices_in_doubt = False
        if lease is not None and not lease > 0:
            raise ValueError(f"lease must be a positive number of seconds, not {lease!r}")
        self.node = node
        self.lease = lease
        self.fenced = 0  # commits the database refused for ownership (C2)
        self._membership: Membership | None = None
        self._renewing: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> None:
        if self._pool is not None:
            return
        self._writer_id = secrets.token_hex(8)
        self._commits = 0
        conn = await self._connect()
        try:
            await self._migrate(conn)
            await conn.execute(
                "INSERT INTO actorflow_writers (writer, opened_at) VALUES (%s, %s)",
                (self._writer_id, time.time()),
            )
        except psycopg.Error as exc:
            await conn.close()
            raise translate(exc, f"cannot open the journal {self.name}") from exc
        except BaseException:
            await conn.close()
            raise
        self._writers = [conn] + [None] * (self.depth - 1)  # the others: with their first commits
        self._connected = {0}
        pool: psycopg_pool.AsyncConnectionPool[Any] = psycopg_pool.AsyncConnectionPool(
            self.conninfo,
            min_size=1,
            max_size=self.readers,
            kwargs={"autocommit": True, "connect_timeout": max(1, round(self.connect_timeout))},
            open=False,
            check=psycopg_pool.AsyncConnectionPool.check_connection,
            name="actorflow-journal-readers",
        )
        try:
            await pool.open(wait=True, timeout=self.connect_timeout)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            await pool.close()
            await self.close()
            raise translate(exc, f"cannot open readers of {self.name}") from exc
        self._pool = pool

    async def join(self, changed: Callable[[], Awaitable[None]]) -> None:
        """Become a node of this journal (C2): register, claim a fair share of the shards,
        and keep the lease renewed; `changed` is awaited whenever what it owns changes.

        Raises `NodeNameTaken` if a live node holds the name, `JournalError` subclasses.
        """
        self._check_open()
        if self._membership is not None:
            raise JournalError(f"journal {self.name} has joined as node {self.node} already")
        from ._pg_membership import DEFAULT_LEASE, default_node_name

        node = self.node if self.node is not None else default_node_name()
        membership = Membership(
            self.conninfo,
            self.name,
            node,
            self.lease if self.lease is not None else DEFAULT_LEASE,
            self.connect_timeout,
        )
        await membership.join(changed)
        self.node = node
        self._membership = membership
        self._renewing = asyncio.get_running_loop().create_task(membership.run())

    def owns(self, actor: str) -> bool:
        """Whether this node owns `actor` (C2); before `join`, every actor."""
        membership = self._membership
        return membership is None or membership.owns(actor)

    async def close(self) -> None:
        listeners, self._listeners = self._listeners, set()
        for task in listeners:
            task.cancel()
        renewing, self._renewing = self._renewing, None
        membership, self._membership = self._membership, None
        if renewing is not None:
            renewing.cancel()
            with anyio.CancelScope(shield=True), contextlib.suppress(asyncio.CancelledError):
                await renewing
        if membership is not None:
            await membership.leave()
        pool, self._pool = self._pool, None
        writers = [w for w in self._writers if w is not None and not w.closed]
        self._writers = [None] * self.depth
        with anyio.CancelScope(shield=True):
            for task in listeners:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if pool is not None:
                await pool.close()
            if writers:
                with contextlib.suppress(psycopg.Error):
                    await writers[0].execute(
                        "DELETE FROM actorflow_writers WHERE writer = %s", (self._writer_id,)
                    )
            for writer in writers:
                await writer.close()

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        """A new autocommit connection for writing, committing synchronously."""
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.conninfo,
                autocommit=True,
                connect_timeout=max(1, round(self.connect_timeout)),
            )
        except psycopg.Error as exc:
            raise translate(exc, f"cannot connect to {self.name}") from exc
        try:
            await conn.execute("SET synchronous_commit TO on")
            # A node paused in the middle of a commit must not hold the shards it locked
            # (C2) past a lease: the server ends such a session and the commit does not land.
            await end_idle_transactions(conn, self.lease or 3.0)
        except psycopg.Error as exc:
            await conn.close()
            raise translate(exc, f"cannot set up a connection to {self.name}") from exc
        return conn

    async def _migrate(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Create or migrate the schema in one transaction; refuse what is not a journal."""
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            cur = await conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema() ORDER BY table_name"
            )
            tables = [str(row[0]) for row in await cur.fetchall()]
            if "actorflow_meta" not in tables:
                if tables:
                    shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
                    raise JournalSchemaError(
                        f"{self.name} holds tables that are not an actorflow journal ({shown});"
                        " give the journal a database (or schema) of its own"
                    )
                version = 0
            else:
                cur = await conn.execute(
                    "SELECT value FROM actorflow_meta WHERE key = 'schema_version'"
                )
                row = await cur.fetchone()
                if row is None:
                    raise JournalCorrupt(f"{self.name}: actorflow_meta has no schema_version")
                version = int(row[0])
            await _migrate(
                conn,
                "schema_version",
                version,
                SCHEMA_VERSION,
                MIGRATIONS,
                f"{self.name} holds a journal written by a newer actorflow (journal schema"
                f" {version}, this actorflow reads up to {SCHEMA_VERSION}); upgrade"
                " actorflow to open it",
            )
            await self._migrate_cluster(conn)

    async def _migrate_cluster(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """The nodes' tables (C2), versioned apart from the records (`_pg_cluster`)."""
        cur = await conn.execute("SELECT value FROM actorflow_meta WHERE key = 'cluster_version'")
        row = await cur.fetchone()
        version = 0 if row is None else int(row[0])
        await _migrate(
            conn,
            "cluster_version",
            version,
            CLUSTER_VERSION,
            CLUSTER_MIGRATIONS,
            f"{self.name} holds nodes' tables written by a newer actorflow (cluster version"
            f" {version}, this actorflow reads up to {CLUSTER_VERSION}); upgrade actorflow"
            " to open it",
        )

    # -- retries -------------------------------------------------------------------------------

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run `attempt`; on a lost server or a conflict, again until `reconnect_timeout`."""
        try:
            return await attempt()
        except RETRYABLE as exc:
            logger.warning("%s; retrying for up to %s s", exc, self.reconnect_timeout)
        async for retry in tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(RETRYABLE),
            stop=tenacity.stop_after_delay(self.reconnect_timeout),
            wait=tenacity.wait_exponential_jitter(multiplier=0.05, max=1.0, jitter=0.05),
            reraise=True,
        ):
            with retry:
                return await attempt()
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    # -- writes --------------------------------------------------------------------------------

    async def write(self, batch: Batch) -> list[int | None]:
        return await self._commit(batch, following=False)

    async def write_following(self, batch: Batch) -> list[int | None]:
        """`write`, sent while the commits before it may be on their way (`PipelinedWrites`):
        on a writer connection of its own, its first statement waits at the server for the
        one before it to end, and refuses to go on (`CommitNotFollowed`) unless it landed."""
        return await self._commit(batch, following=True)

    async def _commit(self, batch: Batch, *, following: bool) -> list[int | None]:
        self._check_open()
        # Numbered when called, so that the numbers follow the order of the calls.
        previous = self._commits if following else None
        self._commits += 1
        number = self._commits
        slot = number % self.depth
        unsure: list[int] = []  # the number of this commit once its answer was lost
        ended = self._on_their_way[number] = anyio.Event()
        try:
            if previous is None:
                # One that follows nothing lands whatever came before it, so it goes only once
                # every commit called before it has ended: else one of those whose answer was
                # lost would read as landed by the number of this one (`_committed`).
                for earlier in [e for n, e in self._on_their_way.items() if n < number]:
                    await earlier.wait()
            async with self._locks[slot]:
                return await self._retrying(
                    lambda: self._written(batch, unsure, number, previous, slot)
                )
        except JournalUnavailable as exc:
            if not unsure:
                raise
            raise JournalUnavailable(
                f"{exc}; the server went away while committing, so whether that commit"
                " landed is unknown: what it held was not acknowledged (send it again under"
                " the same ids)"
            ) from exc
        finally:
            del self._on_their_way[number]
            ended.set()

    async def _written(
        self, batch: Batch, unsure: list[int], number: int, previous: int | None, slot: int
    ) -> list[int | None]:
        """`_write_once`; after a refusal the node looks at its shards before it raises, so
        that `owns` answers anew for whoever commits apart what it still holds (the writer
        does). A commit refused only because the node's lease had lapsed is sent again once
        the lease is renewed, if the node still holds its shards at the epochs it claimed
        (nobody took them meanwhile: the fence of the next attempt checks it). A lapse is what
        a server restart longer than the lease leaves, and no fault of the node's."""
        for attempt in range(_LAPSED_ATTEMPTS):
            try:
                return await self._write_once(batch, unsure, number, previous, slot)
            except OwnershipLost as exc:
                membership = self._membership
                if membership is None:
                    self.fenced += 1
                    raise
                lapsed = isinstance(exc.__cause__, psycopg.Error) and (
                    exc.__cause__.sqlstate == LEASE_LAPSED
                )
                kept = await self._look_at_shards(membership)
                if not lapsed or not kept or attempt == _LAPSED_ATTEMPTS - 1:
                    self.fenced += 1
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _look_at_shards(self, membership: Membership) -> bool:
        """Renew and look at the shards now (a commit was refused), which also stops the
        actors of those lost; whether the node still holds every shard it held at its epoch.
        If the server cannot be reached, the `JournalError` is the write's (retried)."""
        before = dict(membership.held)
        await membership.renew()
        return all(membership.held.get(s) == e for s, e in before.items())

    async def _write_once(
        self, batch: Batch, unsure: list[int], number: int, previous: int | None, slot: int
    ) -> list[int | None]:
        conn = await self._writer_connection(slot)
        if unsure:
            if await self._committed(conn, unsure[0]):
                return await self._seqs_of(conn, batch)
            unsure.clear()
        now = time.time()
        try:
            fence, foreign = self._ownership(batch)
            async with conn.pipeline(), conn.transaction():
                appended, notify = await self._apply(
                    conn, batch, number, previous, now, fence, foreign
                )
                crash_point("commit.before_commit")
            seqs = _seqs(batch.appends, await appended.fetchall()) if appended else []
            if notify:
                await self._notify_owners(conn)
        except psycopg.Error as exc:
            if exc.sqlstate in (LEASE_LAPSED, SHARD_NOT_HELD):
                raise OwnershipLost(
                    f"journal {self.name}: the commit was refused and nothing of it landed:"
                    f" {_first_line(exc)}"
                ) from exc
            if exc.sqlstate == NOT_FOLLOWED:
                raise CommitNotFollowed(f"journal {self.name}: {_first_line(exc)}") from exc
            error = translate(exc, f"cannot write to {self.name}")
            if isinstance(error, JournalUnavailable):
                unsure.append(number)  # it may have committed: find out before sending again
                await self._drop_writer(slot)
            raise error from exc
        crash_point("commit.after_commit")
        return seqs

    async def _notify_owners(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Wake the nodes that own what a commit appended for them (C4): after the commit,
        never inside it (a NOTIFY in a transaction serialises commits); a lost notification
        costs their once-a-second look for notices."""
        try:
            await conn.execute("SELECT pg_notify(%s, '')", (sql.CHANNEL,))
        except psycopg.Error as exc:
            logger.debug("journal %s: cannot notify the other nodes (%s)", self.name, exc)

    def _ownership(self, batch: Batch) -> tuple[tuple[object, ...] | None, list[str]]:
        """The fence's parameters for `batch` (None on a node alone) and the ids of its
        appends for actors another node owns (C2, C4: each gets a notice for its owner)."""
        membership = self._membership
        if membership is None:
            return None, []
        mine = [membership.owns(m.recipient) for m in batch.appends]
        foreign = [m.id for m, owned in zip(batch.appends, mine, strict=True) if not owned]
        return membership.fence(*_owned_by(batch, mine)), foreign

    async def _apply(
        self,
        conn: psycopg.AsyncConnection[Any],
        batch: Batch,
        number: int,
        previous: int | None,
        now: float,
        fence: tuple[object, ...] | None,
        foreign: list[str],
    ) -> tuple[psycopg.AsyncCursor[Any] | None, bool]:
        """Queue `batch` in the pipeline, in `Batch`'s order, after the statement that orders
        the writer's commits (`_pg_cluster.FOLLOW`); the appends' cursor, if any, and whether
        other nodes are to be woken after the commit (C4: it appended or replied for them).
        `fence` and `foreign` are `_ownership`'s."""
        notify = False
        await conn.execute(cluster.FOLLOW, (self._writer_id, number, previous))
        if fence is not None:
            await conn.execute(cluster.FENCE, fence)
        if batch.appends or batch.requeues:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (sql.APPEND_LOCK,))
        if batch.actors:
            async with conn.cursor() as cur:
                await cur.executemany(
                    sql.UPSERT_ACTOR,
                    [actor_row(a, now) for a in batch.actors],
                )
        appended = None
        if batch.appends:
            appended = await conn.execute(sql.APPEND, sql.append_params(batch.appends, now))
            if foreign:  # C4: a message for an actor another node owns is that node's to take in
                await conn.execute(
                    cluster.NOTICES, (sql.text_array(foreign, "notices.message_id"),)
                )
                notify = True
        if batch.claims:
            await conn.execute(sql.CLAIM, (sql.text_array(batch.claims, "messages.id"),))
        if batch.done:
            by_seq, by_id = sql.done_params(batch.done)
            if by_seq is not None:
                await conn.execute(sql.DONE_BY_SEQ, by_seq)
            if by_id is not None:
                await conn.execute(sql.DONE_BY_ID, by_id)
            await conn.execute(sql.STATES, sql.states_params(batch))
            replies = asks.reply_params(batch.done)
            if replies is not None:  # C4: replies to other nodes' asks, with their done-marks
                await conn.execute(asks.REPLIES, replies)
                notify = True
        if batch.failed:
            async with conn.cursor() as cur:
                await cur.executemany(
                    sql.FAILED,
                    [
                        (f.attempts, f.error, f.traceback, f.dead, f.message_id)
                        for f in batch.failed
                    ],
                )
        if batch.requeues:
            async with conn.cursor() as cur:
                await cur.executemany(sql.REQUEUE, [(m,) for m in batch.requeues])
        if batch.steps:
            await conn.execute(sql.STEPS, sql.step_params(batch.steps, now))
        if batch.timers:
            await conn.execute(sql.TIMERS, sql.timer_params(batch.timers, now))
        if batch.cancels:
            await conn.execute(sql.CANCEL, (sql.text_array(batch.cancels, "timers.id"),))
        return appended, notify

    async def _writer_connection(self, slot: int) -> psycopg.AsyncConnection[Any]:
        conn = self._writers[slot]
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        await self._drop_writer(slot)
        conn = await self._connect()
        try:
            cur = await conn.execute(
                "INSERT INTO actorflow_writers (writer, opened_at) VALUES (%s, %s)"
                " ON CONFLICT (writer) DO NOTHING",
                (self._writer_id, time.time()),
            )
            await cur.close()
        except psycopg.Error as exc:
            await conn.close()
            raise translate(exc, f"cannot write to {self.name}") from exc
        self._writers[slot] = conn
        if slot in self._connected:
            logger.info("journal %s: the writer reconnected", self.name)
        self._connected.add(slot)
        return conn

    async def _drop_writer(self, slot: int) -> None:
        conn, self._writers[slot] = self._writers[slot], None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                await conn.close()

    async def _committed(self, conn: psycopg.AsyncConnection[Any], number: int) -> bool:
        """Whether commit `number`, whose answer was lost, landed (J2): the writer's last
        commit is it or a later one. A later one follows it, directly or through others, and
        lands only if it did, since one that follows nothing is not sent while it is on its
        way (`_commit`)."""
        try:
            cur = await conn.execute(
                "SELECT last_commit FROM actorflow_writers WHERE writer = %s", (self._writer_id,)
            )
            row = await cur.fetchone()
        except psycopg.Error as exc:
            raise translate(exc, f"cannot write to {self.name}") from exc
        return row is not None and int(row[0]) >= number

    async def _seqs_of(self, conn: psycopg.AsyncConnection[Any], batch: Batch) -> list[int | None]:
        """The seqs of a committed batch's appends, read back (its answer was lost).

        A message whose id was in the journal before the batch is reported with its seq too:
        that batch's answer cannot say it was there already.
        """
        if not batch.appends:
            return []
        try:
            cur = await conn.execute(
                "SELECT id, seq FROM messages WHERE id = ANY(%s::text[])",
                ([m.id for m in batch.appends],),
            )
            rows = await cur.fetchall()
        except psycopg.Error as exc:
            raise translate(exc, f"cannot write to {self.name}") from exc
        return _seqs(batch.appends, rows)

    # -- notices (J11) -------------------------------------------------------------------------

    async def take_notices(self) -> list[MessageRecord]:
        """The messages whose notices this takes (deleting them), in journal order.

        Taking deletes the notices as it reads them, so a take that did not return (its answer
        lost with a cut connection or a server that died right after the commit, or its caller
        cancelled) may have deleted notices whose messages nobody got: they would stay pending
        unseen until the next restore, and later ones would be handled first (A1, J11; found
        by the cluster kill loop, its cuts and its server restart). So the attempt after such
        a one, whether a retry within this call or the next call, also returns every pending
        message of the actors this node owns, in order with what it took; the system takes in
        only those its actors do not hold yet.
        """
        return await self._retrying(self._take_notices_once)

    async def _take_notices_once(self) -> list[MessageRecord]:
        in_doubt, self._notices_in_doubt = self._notices_in_doubt, True
        membership = self._membership
        if membership is None:
            rows = await self._fetch_once(sql.TAKE_NOTICES, ())
        else:  # only those of its own shards: the others' are their owners' to take (C4)
            rows = await self._fetch_once(
                cluster.TAKE_OWNED_NOTICES, (membership.shard_count, membership.node)
            )
        taken = [read_message_or_corrupt(row) for row in rows]
        if in_doubt:
            owns = self.owns
            again = {m.id: m for m in await self.pending() if owns(m.recipient)}
            again.update((m.id, m) for m in taken)
            taken = sorted(again.values(), key=lambda m: m.seq)
        self._notices_in_doubt = False
        return taken

    def watch_notices(self, wake: Callable[[], None]) -> Callable[[], None]:
        task = asyncio.get_running_loop().create_task(self._listen(wake))
        self._listeners.add(task)

        def stop() -> None:
            task.cancel()  # `close` waits for it to end

        return stop

    async def _listen(self, wake: Callable[[], None]) -> None:
        """LISTEN for outside producers' notifications; reconnect a second after a failure
        (meanwhile the system's once-a-second check finds the notices)."""
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.conninfo,
                    autocommit=True,
                    connect_timeout=max(1, round(self.connect_timeout)),
                )
            except psycopg.Error as exc:
                logger.debug("journal %s: cannot listen for notices (%s)", self.name, exc)
                await anyio.sleep(1.0)
                continue
            try:
                await conn.execute(f"LISTEN {sql.CHANNEL}")
                wake()  # anything notified while not listening
                async for _ in conn.notifies():
                    wake()
            except psycopg.Error as exc:
                logger.debug("journal %s: listening for notices failed (%s)", self.name, exc)
            finally:
                with anyio.CancelScope(shield=True), contextlib.suppress(psycopg.Error):
                    await conn.close()
            await anyio.sleep(1.0)

    # -- compaction (J10) ----------------------------------------------------------------------

    async def compact(self, before: float) -> Compacted:
        pool = self._check_open()

        async def once() -> Compacted:
            try:
                async with pool.connection() as conn, conn.transaction():
                    steps = await conn.execute(sql.DELETE_STEPS, {"before": before})
                    messages = await conn.execute(sql.DELETE_DONE, {"before": before})
                    await conn.execute(asks.SWEEP_ASKS)  # asks of dead askers (C4)
                    await conn.execute(asks.SWEEP_REPLIES)
                    return Compacted(
                        messages=messages.rowcount, steps=steps.rowcount, before=before
                    )
            except psycopg.Error as exc:
                raise translate(exc, f"cannot compact {self.name}") from exc

        return await self._retrying(once)

    async def pin(self, conversation: str, pinned: bool = True) -> bool:
        pool = self._check_open()

        async def once() -> bool:
            try:
                async with pool.connection(timeout=self.connect_timeout) as conn:
                    if pinned:
                        cur = await conn.execute(sql.PIN, (conversation, time.time()))
                    else:
                        cur = await conn.execute(sql.UNPIN, (conversation,))
                    changed: int = cur.rowcount
                    return changed == 1
            except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
                raise translate(exc, f"cannot pin in {self.name}") from exc

        return await self._retrying(once)

    # -- asks across nodes (C4, `AskChannel`) ---------------------------------------------------

    async def ask_out(self, message_id: str, timeout: float) -> None:
        node = self.node if self._membership is not None else None
        if node is None:
            raise JournalError(f"journal {self.name}: only a node can ask across nodes")

        async def once(conn: psycopg.AsyncConnection[Any]) -> None:
            await conn.execute(asks.SWEEP_ASKS)
            await conn.execute(asks.SWEEP_REPLIES)
            await conn.execute(asks.ASK_OUT, (message_id, node, timeout))

        await self._in_transaction(once, "cannot register an ask in")

    async def answers(self, message_ids: Sequence[str]) -> list[Answer]:
        found: list[Answer] = []

        async def once(conn: psycopg.AsyncConnection[Any]) -> None:
            await conn.execute(asks.SWEEP_ASKS)
            await conn.execute(asks.SWEEP_REPLIES)
            cur = await conn.execute(asks.ANSWERS, (list(message_ids),))
            found[:] = [asks.answer_of(row) for row in await cur.fetchall()]

        await self._in_transaction(once, "cannot read the answers to asks from")
        if found:  # they are here: only now may they go from the journal
            try:
                await self.forget_asks([a.message_id for a in found])
            except JournalError as exc:  # they expire with their asks; a later read ignores them
                logger.warning("cannot delete %d answered ask(s): %s", len(found), exc)
        return found

    async def forget_asks(self, message_ids: Sequence[str]) -> None:
        async def once(conn: psycopg.AsyncConnection[Any]) -> None:
            await conn.execute(asks.FORGET, {"ids": list(message_ids)})

        await self._in_transaction(once, "cannot forget asks in")

    async def _in_transaction(
        self, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]], doing: str
    ) -> None:
        """Run `work` in one transaction on a pooled connection, retried as reads are."""
        pool = self._check_open()

        async def once() -> None:
            try:
                async with (
                    pool.connection(timeout=self.connect_timeout) as conn,
                    conn.transaction(),
                ):
                    await work(conn)
            except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
                raise translate(exc, f"{doing} {self.name}") from exc

        await self._retrying(once)

    # -- reads ---------------------------------------------------------------------------------

    async def pinned(self) -> list[str]:
        return [str(conversation) for (conversation,) in await self._fetch(sql.PINNED, ())]

    async def turns(self, conversation: str) -> list[TurnRecord]:
        turn_rows, step_rows = await self._fetch_together(
            (CONVERSATION_TURNS, (conversation,)), (CONVERSATION_STEPS, (conversation,))
        )
        return turns_of(turn_rows, step_rows)

    async def actors(self) -> list[ActorRecord]:
        rows = await self._fetch(f"SELECT {ACTOR_COLUMNS} FROM actors ORDER BY number", ())
        return [read_actor(row) for row in rows]

    async def actor(self, name: str) -> ActorRecord | None:
        return await _rows.fetch_actor(self._fetch, name)

    async def pending(
        self, recipient: str | None = None, *, after: int = 0, limit: int | None = None
    ) -> list[MessageRecord]:
        return await _rows.fetch_pending(self._fetch, recipient, after, limit)

    async def message(self, message_id: str) -> MessageRecord | None:
        return await _rows.fetch_message(self._fetch, message_id)

    async def dead_letters(self, *, limit: int | None = None) -> list[MessageRecord]:
        return await _rows.fetch_dead_letters(self._fetch, limit)

    async def steps(self, message_id: str) -> dict[str, bytes]:
        return await _rows.fetch_steps(self._fetch, message_id)

    async def timers(self) -> list[TimerRecord]:
        return await _rows.fetch_timers(self._fetch)

    async def conversation(self, conversation: str) -> list[MessageRecord]:
        return await _rows.fetch_conversation(self._fetch, conversation)

    async def schema_version(self) -> int:
        return await _rows.fetch_schema_version(self._fetch)

    async def _fetch(self, query: str, params: tuple[Any, ...]) -> list[Any]:
        """The rows of `query` (in SQLite's dialect, translated: `_rows.Fetch`), retried."""
        return await self._retrying(lambda: self._fetch_once(query, params))

    async def _fetch_once(self, query: str, params: tuple[Any, ...]) -> list[Any]:
        """The rows of `query`, tried once: for a statement that changes what it reads, whose
        retry would not find again what a lost answer held."""
        pool = self._check_open()
        try:
            async with pool.connection(timeout=self.connect_timeout) as conn:
                cur = await conn.execute(postgres_sql(query), bind(query, params))
                return list(await cur.fetchall())
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise translate(exc, f"cannot read {self.name}") from exc

    async def _fetch_together(self, *queries: tuple[str, tuple[Any, ...]]) -> list[list[Any]]:
        """The rows of each of `queries` (as `_fetch` takes them), read from one snapshot (a
        compaction in between cannot take a turn's steps and leave the turn)."""
        pool = self._check_open()

        async def once() -> list[list[Any]]:
            try:
                async with (
                    pool.connection(timeout=self.connect_timeout) as conn,
                    conn.transaction(),
                ):
                    await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    found = []
                    for query, params in queries:
                        cur = await conn.execute(postgres_sql(query), bind(query, params))
                        found.append(list(await cur.fetchall()))
                    return found
            except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
                raise translate(exc, f"cannot read {self.name}") from exc

        return await self._retrying(once)

    def _check_open(self) -> psycopg_pool.AsyncConnectionPool[Any]:
        pool = self._pool
        if pool is None:
            raise JournalError(f"journal {self.name} is not open")
        return pool

    def __repr__(self) -> str:
        state = "open" if self._pool is not None else "closed"
        return f"<PostgresJournal {self.name} {state}>"


def _owned_by(batch: Batch, mine: list[bool]) -> tuple[list[str], list[str], list[str]]:
    """What of `batch` needs its node to own the actors concerned (C2): the actors whose
    done-marks, states and timers it writes, and those it appends for believing it owns them
    (`mine`, one flag per append: it hands those messages to their mailboxes here, with no
    notice for another owner); the messages it claims, fails, re-queues or records steps of;
    the timers it removes. Appends
    for another node's actors (with a notice for it, C4) and registrations need no ownership."""
    names = {d.actor for d in batch.done}
    names.update(t.message.recipient for t in batch.timers)
    names.update(m.recipient for m, owned in zip(batch.appends, mine, strict=True) if owned)
    messages = set(batch.claims)
    messages.update(f.message_id for f in batch.failed)
    messages.update(s.message_id for s in batch.steps)
    messages.update(batch.requeues)
    return sorted(names), sorted(messages), sorted(set(batch.cancels))


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


async def _migrate(
    conn: psycopg.AsyncConnection[Any],
    key: str,
    version: int,
    latest: int,
    migrations: Mapping[int, Sequence[str]],
    newer: str,
) -> None:
    """Bring what `key` in actorflow_meta versions from `version` up to `latest`, one
    migration at a time, each recorded as it lands; `newer` is the error for a later one."""
    if version > latest:
        raise JournalSchemaError(newer)
    for target in range(version + 1, latest + 1):
        for statement in migrations[target]:
            await conn.execute(statement)
        await conn.execute(
            "INSERT INTO actorflow_meta (key, value) VALUES (%s, %s)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, str(target)),
        )


def _seqs(appends: list[MessageRecord], rows: list[Any]) -> list[int | None]:
    """Each append's seq from (id, seq) rows, or None: an id appended before, or earlier in
    the same batch (its first occurrence has the seq)."""
    found = {str(m_id): int(seq) for m_id, seq in rows}
    return [found.pop(m.id, None) for m in appends]
