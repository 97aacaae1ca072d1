"""One writer connection to a SQLite journal and what it writes (J8, J9): the synchronous half
of `SQLiteJournal`, run wherever the journal sends its writes (the loop's thread, the writer
thread, or the writer process: `_writer_process`).

It opens the file (creating and migrating it), applies each group commit as one
``BEGIN IMMEDIATE`` transaction, takes notices, compacts and pins, and keeps the WAL bounded
(`_CHECKPOINT_BYTES`, `_WAL_SIZE_LIMIT`), giving back the space it holds after a full disk.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, final

from .._crashpoints import crash_point
from .._errors import (
    JournalCorrupt,
    JournalError,
    JournalFull,
    JournalLocked,
    JournalSchemaError,
)
from ._records import Batch, Compacted, MessageRecord
from ._rows import (
    MESSAGE_COLUMNS,
    REQUEUE,
    TIMER_COLUMNS,
    actor_row,
    message_row,
    read_message_or_corrupt,
    timer_row,
    turn_blob,
)
from ._schema import MIGRATIONS, SCHEMA_VERSION
from ._statements import INSERT_MESSAGE, compact, immediate, pin

__all__ = ["SQLiteWriter", "WriterSettings", "empty_database", "empty_file", "translate"]

_UPSERT_ACTOR: Final = (
    "INSERT INTO actors"
    " (name, kind, args, options, state, supervisor, handled, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)"
    " ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, args = excluded.args,"
    " options = excluded.options, supervisor = excluded.supervisor,"
    " updated_at = excluded.updated_at"
)
_NEWEST: Final = "SELECT id, seq FROM messages ORDER BY seq DESC LIMIT ?"
_CLAIM: Final = "UPDATE messages SET attempts = attempts + 1 WHERE id = ? AND status = 'pending'"
# A message cancelled while its handler ran (or its turn's commit was on its way) is done all
# the same: its state and outbox commit with its done-mark (J3), and the cancel that came too
# late stays recorded beside it (cancelled_at, cancelled_by).
_DONE: Final = (
    "UPDATE messages SET status = 'done', done_at = ?, turn = ? WHERE id = ?"
    " AND status IN ('pending', 'cancelled')"
)
# One row each; their parameters in the order of `_DONE_FROM`'s and `_STATE_FROM`'s columns.
_DONE_BY_SEQ: Final = (
    "UPDATE messages SET status = 'done', done_at = ?2, turn = ?3"
    " WHERE seq = ?1 AND status IN ('pending', 'cancelled')"
)
_STATE: Final = (
    "UPDATE actors SET state = coalesce(?2, state), handled = handled + ?3, updated_at = ?4"
    " WHERE name = ?1"
)
_STEP: Final = (
    "INSERT INTO steps (message_id, step, result, created_at, args, position)"
    " VALUES (?, ?, ?, ?, ?, ?)"
    # A result replaces a started marker (an empty result, T2); nothing replaces a result.
    " ON CONFLICT (message_id, step) DO UPDATE SET result = excluded.result,"
    " created_at = excluded.created_at, args = excluded.args, position = excluded.position"
    " WHERE steps.result = X'' AND excluded.result != X''"
)
_TIMER: Final = (
    f"INSERT INTO timers ({TIMER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO NOTHING"
)
_CANCEL: Final = "DELETE FROM timers WHERE id = ?"
_TAKE_NOTICES: Final = (
    f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE status IN ('pending', 'cancelled')"
    " AND id IN (SELECT message_id FROM notices) ORDER BY seq"
)
# A failed attempt of a message cancelled meanwhile is recorded, but it stays cancelled.
_FAILED: Final = (
    "UPDATE messages SET attempts = ?, error = ?, traceback = ?,"
    " status = CASE WHEN ? AND status = 'pending' THEN 'dead' ELSE status END"
    " WHERE id = ? AND status IN ('pending', 'cancelled')"
)

# Many rows in one statement (a multi-row VALUES list) rather than one statement per row: the
# writer thread then hands the GIL back and forth once per statement instead of once per row,
# which is what a busy event loop in the other thread makes expensive. UPDATE ... FROM needs
# SQLite 3.33; older ones get one statement per row. Up to `_FEW_ROWS` rows go one statement
# each all the same: UPDATE ... FROM materializes its VALUES first, and for one row costs ~3x
# the plain UPDATE (measured: 9.4 against 2.9 us a done-mark, 28 against 7 us a state).
_CHUNK: Final = 64
_FEW_ROWS: Final = 4
_UPDATE_FROM: Final = sqlite3.sqlite_version_info >= (3, 33, 0)
_DONE_FROM: Final = (
    "UPDATE messages SET status = 'done', done_at = v.column2, turn = v.column3"
    " FROM (VALUES (?, ?, ?)) AS v"
    " WHERE messages.seq = v.column1 AND messages.status IN ('pending', 'cancelled')"
)
_STATE_FROM: Final = (
    "UPDATE actors SET state = coalesce(v.column2, actors.state),"
    " handled = actors.handled + v.column3, updated_at = v.column4"
    " FROM (VALUES (?, ?, ?, ?)) AS v WHERE actors.name = v.column1"
)

# The WAL's bounds in normal running (J8): SQLite checkpoints it (PASSIVE, in the commit that
# leaves it at `_CHECKPOINT_BYTES` or more, counted in pages of the file's size), and a WAL file
# that grew past `_WAL_SIZE_LIMIT` (one large commit, or checkpoints held back by a long read) is
# cut back to that size when it starts again from its beginning after a checkpoint.
_CHECKPOINT_BYTES: Final = 4 * 1024 * 1024
# The page size of a new journal. A commit writes every page it changed into the WAL whole, and
# a turn changes a page in each of a few B-trees (the messages, their indexes, the actor's row):
# measured, a sequential turn appends ~32 KiB to the WAL at 4 KiB pages, ~17 KiB at 2 KiB and
# ~9 KiB at 1 KiB, and the fsync that follows costs more the more it flushes (sequential turns
# ~15-25% faster at 2 KiB). At 1 KiB the trees are deeper and a group commit of 256 messages
# costs the writer thread ~10% more CPU; at 2 KiB it costs what it does at 4. Journals made
# before keep their page size.
_PAGE_SIZE: Final = 2048
_WAL_SIZE_LIMIT: Final = 4 * 1024 * 1024

# A journal opened with no WAL beside it gets one of `_WAL_SIZE_LIMIT` zeros first (J8's choice
# in docs/design.md): SQLite would otherwise grow its new WAL commit by commit, and an fsync
# that grows a file also writes the file's inode (its new size) and waits for it (ext4 without
# a journal here, perf: `ext4_fsync_nojournal` syncing the inode's buffer). Measured with 10-step
# workflows (12 commits each) on a new journal: 1,850-1,900 steps/s until the WAL first filled,
# 2,200-2,300 with it written whole beforehand; writing 4 MiB and its fsync took 10-18 ms here.
_WAL_CHUNK: Final = 256 * 1024

# After a JournalFull, until the disk has this much room again, every commit checkpoints the WAL
# (so it holds one commit, and a freed disk is not taken back by it): room for a full-sized WAL,
# and for the database to grow by as much when that WAL is checkpointed.
_SHORT_OF_ROOM: Final = 2 * _WAL_SIZE_LIMIT

# SQLite's primary result codes (https://sqlite.org/rescode.html) that decide the error type.
_BUSY, _LOCKED, _FULL, _CORRUPT, _NOTADB = 5, 6, 13, 11, 26


@final
@dataclass(frozen=True, slots=True)
class WriterSettings:
    """How a writer connection to a SQLite journal is opened: `SQLiteJournal`'s arguments."""

    path: Path
    synchronous: Literal["FULL", "NORMAL"]
    busy_timeout: float
    max_bytes: int | None


@final
class SQLiteWriter:
    """The writer connection of a journal, used by one thread at a time; `last_write` is how
    many seconds its last write transaction took."""

    def __init__(self, settings: WriterSettings) -> None:
        self.path = settings.path
        self.synchronous = settings.synchronous
        self.busy_timeout = settings.busy_timeout
        self.max_bytes = settings.max_bytes
        self.last_write = 0.0
        self._conn: sqlite3.Connection | None = None
        # Since a JournalFull, a TRUNCATE checkpoint is owed (it could not finish yet), and the
        # disk has not had `_SHORT_OF_ROOM` free.
        self._truncate_owed = False
        self._short_of_room = False
        self._checkpoint_pages = _CHECKPOINT_BYTES // _PAGE_SIZE  # set again from the file
        self._waits_for_locks = True  # the connection's busy timeout is `busy_timeout`

    def open(self) -> None:
        """Open the file, creating or migrating it; `JournalSchemaError` for a foreign one."""
        self._conn = self._connect()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        _create_if_missing(self.path)
        _prefill_wal(self.path)
        try:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,  # we issue BEGIN IMMEDIATE / COMMIT ourselves
                timeout=self.busy_timeout,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise translate(exc, f"cannot open {self.path}") from exc
        try:
            _refuse_empty(conn, self.path)  # before WAL mode, which would write to the file
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise JournalError(f"{self.path}: SQLite refused WAL mode (got {mode!r})")
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            conn.execute(f"PRAGMA journal_size_limit = {_WAL_SIZE_LIMIT}")
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            self._checkpoint_pages = max(1, _CHECKPOINT_BYTES // page_size)
            conn.execute(f"PRAGMA wal_autocheckpoint = {self._checkpoint_pages}")
            self._truncate_owed = self._short_of_room = False
            _migrate(conn, self.path)
            if self.max_bytes is not None:
                conn.execute(f"PRAGMA max_page_count = {max(1, self.max_bytes // page_size)}")
        except sqlite3.Error as exc:
            conn.close()
            if getattr(exc, "sqlite_errorcode", None) == _NOTADB:
                raise JournalSchemaError(
                    f"{self.path} is not a SQLite database, so not an actorflow journal"
                ) from exc
            raise translate(exc, f"cannot open {self.path}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def write(self, batch: Batch, *, waits: bool = True) -> list[int | None]:
        """One write transaction; `waits`: for another process's write lock, `busy_timeout`."""
        conn = self._conn
        if conn is None:
            raise JournalError(f"journal {self.path} is closed")
        if self._truncate_owed:
            self._truncate_wal(conn)
        now = time.time()
        started = time.perf_counter()
        try:
            self._wait_for_locks(conn, waits)
            with immediate(conn):
                seqs = self._apply(conn, batch, now)
                crash_point("commit.before_commit")
            crash_point("commit.after_commit")
        except sqlite3.Error as exc:
            raise self._failed(conn, exc, f"cannot write to {self.path}") from exc
        finally:
            self.last_write = time.perf_counter() - started
        if self._short_of_room:
            self._check_room(conn)
        return seqs

    def _wait_for_locks(self, conn: sqlite3.Connection, waits: bool) -> None:
        """Set how long the writer connection waits for a lock: `busy_timeout`, or not at all."""
        if waits != self._waits_for_locks:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_milliseconds(waits)}")
            self._waits_for_locks = waits

    def _busy_milliseconds(self, waits: bool) -> int:
        return int(self.busy_timeout * 1000) if waits else 0

    # -- a full disk (J9) -------------------------------------------------------------------------

    def _failed(self, conn: sqlite3.Connection, exc: sqlite3.Error, context: str) -> JournalError:
        """`exc` as a typed error; after a full disk, give the space the WAL holds back.

        The failed transaction was rolled back whole (`immediate`), so nothing of it is
        committed; what the WAL held of it, and of the commits before, goes once it is
        checkpointed and truncated.
        """
        error = translate(exc, context)
        if isinstance(error, JournalFull):
            self._short_of_room = True
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_autocheckpoint = 1")  # every commit, from now on
            self._truncate_wal(conn)
        return error

    def _truncate_wal(self, conn: sqlite3.Connection) -> None:
        """Checkpoint the whole WAL into the database and truncate it to nothing.

        It waits for nobody: a read in progress (or another process's write) leaves it
        unfinished, and so does a disk too full for the database to grow by the pages it
        copies; it is then tried again before the next write.
        """
        self._truncate_owed = True
        if conn.in_transaction:
            return  # a rollback that failed: the next write reports it
        try:
            conn.execute("PRAGMA busy_timeout = 0")
            try:
                blocked = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                conn.execute(
                    f"PRAGMA busy_timeout = {self._busy_milliseconds(self._waits_for_locks)}"
                )
        except sqlite3.Error:
            return
        self._truncate_owed = bool(blocked)

    def _check_room(self, conn: sqlite3.Connection) -> None:
        """Go back to checkpoints every `_CHECKPOINT_BYTES` once the disk has room again."""
        try:
            disk = os.statvfs(self.path.parent)
        except OSError:
            return
        if disk.f_bavail * disk.f_frsize >= _SHORT_OF_ROOM:
            with contextlib.suppress(sqlite3.Error):
                conn.execute(f"PRAGMA wal_autocheckpoint = {self._checkpoint_pages}")
                self._short_of_room = False

    @staticmethod
    def _apply(conn: sqlite3.Connection, batch: Batch, now: float) -> list[int | None]:
        if batch.actors:
            conn.executemany(
                _UPSERT_ACTOR,
                [actor_row(a, now) for a in batch.actors],
            )
        seqs = _append(conn, batch.appends, now) if batch.appends else []
        if batch.claims:
            conn.executemany(_CLAIM, [(message_id,) for message_id in batch.claims])
        if batch.done:
            _mark_done(conn, batch)
        if batch.failed:
            conn.executemany(
                _FAILED,
                [(f.attempts, f.error, f.traceback, f.dead, f.message_id) for f in batch.failed],
            )
        if batch.requeues:
            conn.executemany(REQUEUE, [(message_id,) for message_id in batch.requeues])
        if batch.steps:
            conn.executemany(
                _STEP,
                [
                    (s.message_id, s.step, s.result, s.created_at or now, s.args, s.position)
                    for s in batch.steps
                ],
            )
        if batch.timers:
            conn.executemany(_TIMER, [timer_row(t, now) for t in batch.timers])
        if batch.cancels:
            conn.executemany(_CANCEL, [(timer_id,) for timer_id in batch.cancels])
        return seqs

    def take_notices(self) -> list[MessageRecord]:
        conn = self._conn
        if conn is None:
            raise JournalError(f"journal {self.path} is closed")
        try:
            self._wait_for_locks(conn, True)
            if conn.execute("SELECT 1 FROM notices LIMIT 1").fetchone() is None:
                return []  # the usual case: no write transaction at all
            with immediate(conn):
                rows = conn.execute(_TAKE_NOTICES).fetchall()
                conn.execute("DELETE FROM notices")
        except sqlite3.Error as exc:
            raise self._failed(conn, exc, f"cannot read notices in {self.path}") from exc
        return [read_message_or_corrupt(row) for row in rows]

    def compact(self, before: float) -> Compacted:
        conn = self._conn
        if conn is None:
            raise JournalError(f"journal {self.path} is closed")
        try:
            self._wait_for_locks(conn, True)
            return compact(conn, before)
        except sqlite3.Error as exc:
            raise self._failed(conn, exc, f"cannot compact {self.path}") from exc

    def pin(self, conversation: str, pinned: bool) -> bool:
        conn = self._conn
        if conn is None:
            raise JournalError(f"journal {self.path} is closed")
        try:
            self._wait_for_locks(conn, True)
            return pin(conn, conversation, pinned)
        except sqlite3.Error as exc:
            raise self._failed(conn, exc, f"cannot pin in {self.path}") from exc


def _append(conn: sqlite3.Connection, appends: list[MessageRecord], now: float) -> list[int | None]:
    """Insert messages in one statement; return each one's seq, or None for a repeated id
    (one in the journal already, or earlier in `appends`: its first copy has the seq).

    We hold the write lock (BEGIN IMMEDIATE), and AUTOINCREMENT gives each inserted row the
    next number, so when every row went in their seqs are those up to the last one inserted
    (the connection's last insert rowid): one statement fewer than reading the counter first.
    When some id was there already, a skipped row may still have used up a number, so the new
    rows are read back: they are the table's `inserted` highest seqs, as nothing else writes
    while we hold the lock and every new seq is above every old one.
    """
    before = conn.total_changes
    last = _in_chunks(conn, INSERT_MESSAGE, [message_row(m, now) for m in appends])
    inserted = conn.total_changes - before
    if not inserted or last is None:
        return [None] * len(appends)
    if inserted == len(appends):
        return list(range(last - inserted + 1, last + 1))
    seqs = dict(conn.execute(_NEWEST, (inserted,)))
    return [seqs.pop(m.id, None) for m in appends]


def _mark_done(conn: sqlite3.Connection, batch: Batch) -> None:
    """Done-marks (by seq where known) and each actor's last state of the batch (J3)."""
    by_seq = [(d.seq, d.at, turn_blob(d)) for d in batch.done if d.seq is not None]
    by_id = [(d.at, turn_blob(d), d.message_id) for d in batch.done if d.seq is None]
    # Within a batch only each actor's last state needs writing.
    states: dict[str, list[Any]] = {}
    for d in batch.done:
        row = states.setdefault(d.actor, [d.actor, None, 0, d.at])
        if d.state is not None:
            row[1] = d.state
        row[2] += 1
        row[3] = d.at
    for one, many, rows in (
        (_DONE_BY_SEQ, _DONE_FROM, by_seq),
        (_STATE, _STATE_FROM, list(states.values())),
    ):
        if _UPDATE_FROM and len(rows) > _FEW_ROWS:
            _in_chunks(conn, many, rows)
        elif rows:
            conn.executemany(one, rows)
    if by_id:
        conn.executemany(_DONE, by_id)


def _in_chunks(conn: sqlite3.Connection, sql: str, rows: list[Any]) -> int | None:
    """Run `sql`, written for one row of VALUES, for every row of `rows`: in statements of
    `_CHUNK` rows (the one-row VALUES list repeated), then of the powers of two the rest adds
    up to (32, 16, ... 1), so that a batch costs a few statements, never one per row.

    Each statement hands the GIL over and back (py-spy: the loop waits for it at its next
    call); the rest of a batch run row by row cost up to 63 of those per kind of row.
    Returns the connection's last insert rowid after the last statement (None: no rows).
    """
    start, count = 0, len(rows)
    last = None
    while start < count:
        size = min(_CHUNK, 1 << ((count - start).bit_length() - 1))
        if size == 1:
            cursor = conn.execute(sql, rows[start])
        else:
            flat = list(itertools.chain.from_iterable(rows[start : start + size]))
            cursor = conn.execute(_chunked(sql, size), flat)
        last = cursor.lastrowid
        start += size
    return last


@functools.cache
def _chunked(sql: str, size: int) -> str:
    """`sql` with its one VALUES row repeated `size` times."""
    head, values, tail = sql.partition("VALUES ")
    row, closing, rest = tail.partition(")")
    if not values or not closing:
        raise ValueError(f"no VALUES row to repeat in {sql!r}")
    return f"{head}{values}{', '.join([row + closing] * size)}{rest}"


def empty_file(path: Path) -> JournalSchemaError:
    """The error for a 0-byte file given as a journal: refused, never made a new journal (P3).

    A journal truncated to nothing must not silently start again empty: that would hide what
    it held. The CLI's commands say the same.
    """
    return JournalSchemaError(
        f"{path} is an empty file, not an actorflow journal; delete it to start a new journal"
        " there, or check the path"
    )


def empty_database(path: Path) -> JournalSchemaError:
    """The error for an SQLite database with no tables given as a journal (see `empty_file`)."""
    return JournalSchemaError(
        f"{path} is an empty SQLite database, not an actorflow journal; delete it to start a"
        " new journal there, or check the path"
    )


def _create_if_missing(path: Path) -> None:
    """Create a journal at `path` if there is no file there; refuse a 0-byte file.

    The new journal is built whole beside `path` and then linked into place, so `path` never
    names a half-made journal: a process killed while creating it leaves only a stray
    ``.NAME.PID.RANDOM.creating`` file, and a second process opening the same new path meanwhile
    finds either nothing (and builds its own, of which one wins) or a complete journal.
    """
    try:
        if path.stat().st_size == 0:
            # Refused before SQLite sees it: SQLite would delete a -wal file beside it.
            raise empty_file(path)
    except FileNotFoundError:
        pass
    else:
        return
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.creating")
    try:
        os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        try:
            _build(temp)
            _link(temp, path)
        finally:
            for leftover in (temp, *(Path(f"{temp}-{end}") for end in ("journal", "wal", "shm"))):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
    except OSError as exc:
        raise JournalError(f"cannot create the journal {path}: {exc.strerror or exc}") from exc


def _prefill_wal(path: Path) -> None:
    """Give the journal at `path` a WAL of `_WAL_SIZE_LIMIT` zeros, if it has none yet.

    SQLite reads a WAL whose header is not valid (zeros) as an empty one and writes its frames
    over it from the start, as it does after each checkpoint, so its commits overwrite blocks
    already on disk instead of growing the file. The zeros are written into a file of their
    own, then linked in place only if no WAL appeared meanwhile (another process opening the
    journal), so a WAL that holds frames is never touched. Anything in the way (a journal not
    in WAL mode yet, a disk short of room, no hard links) leaves SQLite to make its own.
    """
    wal = path.with_name(f"{path.name}-wal")
    try:
        with path.open("rb") as db:
            header = db.read(20)
        if os.path.lexists(wal) or header[18:20] != b"\x02\x02":
            return  # a WAL already (maybe with frames to recover), or not a WAL-mode journal
        disk = os.statvfs(path.parent)
        if disk.f_bavail * disk.f_frsize < _SHORT_OF_ROOM + _WAL_SIZE_LIMIT:
            return
    except OSError:
        return
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.wal")
    try:
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _file_mode(path))
        try:
            zeros = bytes(_WAL_CHUNK)
            for _ in range(_WAL_SIZE_LIMIT // _WAL_CHUNK):
                os.write(fd, zeros)
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):  # another process's WAL: theirs stays
            os.link(temp, wal)
    except OSError:
        return  # the disk filled up meanwhile, or no hard links here: SQLite makes its own
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()
    _sync_directory(path.parent)


def _file_mode(path: Path) -> int:
    """The permission bits of `path`, which SQLite gives the -wal and -shm files it makes."""
    return os.stat(path).st_mode & 0o777


def _build(temp: Path) -> None:
    """Write the current schema into the new file `temp` (readable by its owner only: SQLite
    gives the -wal and -shm files it makes later the same mode)."""
    try:
        conn = sqlite3.connect(temp, isolation_level=None)
    except sqlite3.Error as exc:
        raise translate(exc, f"cannot create {temp}") from exc
    try:
        # A rollback journal while it is built, so that closing leaves everything in the file
        # itself; then WAL mode, which the file's header keeps (a new journal's WAL is then
        # made whole before its first commit, `_prefill_wal`).
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA page_size = {_PAGE_SIZE}")  # before the first table
        _migrate(conn, temp, new=True)
        conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.Error as exc:
        raise translate(exc, f"cannot create {temp}") from exc
    finally:
        conn.close()


def _link(temp: Path, path: Path) -> None:
    """Put the complete journal `temp` at `path`, unless a file appeared there meanwhile."""
    try:
        os.link(temp, path)
    except FileExistsError:
        return  # another process created it first: open that one
    except OSError:
        # No hard links on this file system: reserve the name, then move the journal onto it.
        # A crash in between leaves a 0-byte file, which is refused (never a loss).
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            return
        os.replace(temp, path)
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    """Make the new directory entry durable (power loss), where the platform allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _refuse_empty(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse an existing SQLite database with no tables, rather than make it a journal."""
    if conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is None:
        raise empty_database(path)


def _migrate(conn: sqlite3.Connection, path: Path, *, new: bool = False) -> None:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "actorflow_meta" not in tables:
        if tables:
            raise JournalSchemaError(f"{path} is a SQLite database but not an actorflow journal")
        if not new:
            raise empty_database(path)
        version = 0
    else:
        row = conn.execute(
            "SELECT value FROM actorflow_meta WHERE key = 'schema_version'"
        ).fetchone()
        if row is None:
            raise JournalCorrupt(f"{path}: actorflow_meta has no schema_version")
        version = int(row[0])
    if version > SCHEMA_VERSION:
        raise JournalSchemaError(
            f"{path} was written by a newer actorflow (journal schema {version}, this actorflow"
            f" reads up to {SCHEMA_VERSION}); upgrade actorflow to open it"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        with immediate(conn):
            for statement in MIGRATIONS[target]:
                conn.execute(statement)
            conn.execute(
                "INSERT OR REPLACE INTO actorflow_meta (key, value) VALUES ('schema_version', ?)",
                (str(target),),
            )


def translate(exc: sqlite3.Error, context: str) -> JournalError:
    """Map a sqlite3 error to the typed journal error that says what to do (J9)."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    reason = f"{context}: {exc}"
    if primary in (_BUSY, _LOCKED):
        return JournalLocked(f"{reason} (another process holds the write lock)")
    if primary == _FULL:
        return JournalFull(f"{reason} (free disk space, or raise the journal's size limit)")
    if primary in (_CORRUPT, _NOTADB):
        return JournalCorrupt(f"{reason} (the file is damaged; restore it from a backup)")
    return JournalError(reason)
