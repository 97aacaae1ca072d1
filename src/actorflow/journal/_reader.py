"""Reading a journal for people: the queries of the views, on a SQLite file or a PostgreSQL
journal (C1).

The read model shared by the CLI (`actorflow journal ...`), the web UI and replays. Sync (a
view waits for its answer anyway), over a read-only connection (`_source.Source`: a SQLite
file opened ``mode=ro``, or a PostgreSQL connection whose transactions are read-only), so
inspecting a journal never blocks the system writing it and never changes it; the few writes
are `_operations`. The queries are written once, in SQLite's dialect, and a PostgreSQL source
translates them (`_pg_dialect.postgres_sql`). Every value a user gives is bound as an SQL
parameter; the SQL text is built only from the constant fragments below.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Final, TypeVar, final

import msgspec

from .._errors import ActorNotFound, JournalCorrupt, JournalError, MessageNotFound
from .._names import name_forms
from ._postgres import is_postgres_url
from ._records import (
    ActorRecord,
    Compacted,
    MessageRecord,
    MessageStatus,
    StepRecord,
    TimerRecord,
    TurnRecord,
)
from ._rows import (
    ACTOR_COLUMNS,
    CONVERSATION_STEPS,
    CONVERSATION_TURNS,
    MESSAGE_COLUMNS,
    STATUSES,
    STEP_COLUMNS,
    TIMER_COLUMNS,
    conversation_parts,
    field,
    in_conversation,
    listed,
    read_actor,
    read_message,
    read_step,
    read_time,
    read_timer,
    row_checked,
    turns_of,
)
from ._source import Source
from ._sqlite_source import SQLiteSource, check, connect, file_sizes
from ._statements import COUNT_COMPACTABLE

__all__ = [
    "ActorSummary",
    "ConversationFilters",
    "ConversationSummary",
    "DeadLetterFilters",
    "JournalReader",
    "JournalSummary",
    "MessageFilters",
    "duration",
    "OldestPending",
    "decode_msgpack",
    "file_sizes",
    "is_postgres_url",
    "journal_name",
    "open_writable",
    "unknown_message",
]

T = TypeVar("T")

_STATUS_COUNTS: Final = "SELECT status, count(*) FROM messages GROUP BY status"
_ACTOR_COUNT: Final = "SELECT count(*) FROM actors"
# The partial index holds only pending messages: no walk through the whole history.
_OLDEST_PENDING: Final = (
    "SELECT seq, id, created_at FROM messages INDEXED BY messages_pending"
    " WHERE status = 'pending' ORDER BY seq LIMIT 1"
)
_ACTOR_SUMMARIES: Final = (
    "SELECT a.name, a.kind, a.state, a.handled, a.updated_at, coalesce(p.n, 0)"
    " FROM actors AS a LEFT JOIN ("
    "  SELECT recipient, count(*) AS n FROM messages WHERE status = 'pending' GROUP BY recipient"
    " ) AS p ON p.recipient = a.name ORDER BY a.name COLLATE BINARY"
)

# -- conversations -----------------------------------------------------------------------------
# A conversation's key is its messages' conversation id; a message without one (written by
# something other than the runtime) is a conversation of its own, keyed by its id. A message
# *starts* its conversation when no message of the same key came before it (smaller seq). Each
# probe (a message of it other than its root, its root, the message of that id without one) is
# an index search that stops at its first row (messages_conversation, which on PostgreSQL holds
# no roots, and the unique index of ids), so listing the newest conversations walks back from
# the newest message and stops after `limit` starts: a page costs the same on a journal of
# 1,000 or 1,000,000 messages, no new index needed. The start of a conversation whose first
# messages were compacted is its oldest remaining message.
_SCAN_KEY: Final = "coalesce(m.conversation, m.id)"
_IS_START: Final = "".join(
    f"NOT EXISTS (SELECT 1 FROM messages AS e WHERE {part} AND e.seq < m.seq) AND "
    for part in conversation_parts("{key}", "e.")
) + (
    "NOT EXISTS (SELECT 1 FROM messages AS e"
    "  WHERE e.id = {key} AND e.conversation IS NULL AND e.seq < m.seq)"
)
_IN_KEY: Final = (
    f"({in_conversation('{key}', 's.')} OR (s.conversation IS NULL AND s.id = {{key}}))"
)
_HAS_STATUS: Final = f"EXISTS (SELECT 1 FROM messages AS s WHERE {_IN_KEY} AND s.status = ?)"
_HAS_ACTOR: Final = (
    f"EXISTS (SELECT 1 FROM messages AS s WHERE {_IN_KEY}"
    " AND (s.recipient IN ({marks}) OR s.sender IN ({marks})))"
)
_START_COLUMNS: Final = "m.seq, {key}, m.id, m.recipient, m.created_at"
# Statuses few messages have (a partial index holds just them): a filter on one starts from
# the conversations those messages are in instead of walking back through every conversation.
# The status is a constant of the SQL text, never a parameter: SQLite uses a partial index only
# for a query whose WHERE it can see implies the index's.
_RARE_STATUS_KEYS: Final = {
    "pending": "messages INDEXED BY messages_pending WHERE status = 'pending'",
    "dead": "messages INDEXED BY messages_dead WHERE status = 'dead'",
    "cancelled": "messages INDEXED BY messages_cancelled WHERE status = 'cancelled'",
}
_RARE_KEYS: Final = (
    "(SELECT DISTINCT coalesce(conversation, id) AS k FROM {keys}) AS c"
    " JOIN messages AS m ON m.seq = (SELECT min(s.seq) FROM messages AS s"
    f" WHERE {_IN_KEY.format(key='c.k')})"
)
_CONVERSATION_COUNTS: Final = (
    "SELECT status, count(*), max(created_at), max(done_at) FROM messages"
    f" WHERE {in_conversation('?1')} OR (conversation IS NULL AND id = ?1) GROUP BY status"
    " ORDER BY status COLLATE BINARY"
)
_CONVERSATION_STEPS: Final = (
    "SELECT s.message_id, s.step, s.result, s.created_at, s.args, s.position FROM steps AS s"
    " JOIN messages AS m ON m.id = s.message_id"
    f" WHERE {in_conversation('?1', 'm.')}"
    " ORDER BY m.seq, s.position, s.created_at, s.step COLLATE BINARY"
)


class ConversationFilters(msgspec.Struct, frozen=True, kw_only=True):
    """What `JournalReader.conversations` selects; None means any."""

    status: MessageStatus | None = None
    """Conversations with at least one message of this status."""
    actor: str | None = None
    """Conversations with at least one message sent to or by this actor."""
    since: float | None = None
    """Started (its first message created) at or after this UNIX time."""
    until: float | None = None
    """Started before this UNIX time."""


class ConversationSummary(msgspec.Struct, frozen=True, kw_only=True):
    """One row of ``journal conversations``: a conversation, counted."""

    id: str
    """The conversation id (the id of the message that started it, for the runtime's)."""
    first_message: str
    """The id of its first message still in the journal."""
    first_actor: str
    """The recipient of its first message."""
    statuses: dict[str, int]
    """How many of its messages have each status, for the statuses its messages have."""
    messages: int
    first_at: float
    """When its first message was created (UNIX time)."""
    last_at: float
    """The latest time any of its messages was created or done."""
    duration: float
    """Seconds from `first_at` to `last_at`."""


class MessageFilters(msgspec.Struct, frozen=True, kw_only=True):
    """What `JournalReader.messages` selects; None means any."""

    actor: str | None = None
    """Messages sent to or by this actor."""
    type: str | None = None
    status: MessageStatus | None = None
    conversation: str | None = None
    since: float | None = None
    """Created at or after this UNIX time."""
    until: float | None = None
    """Created before this UNIX time."""

    def where(self) -> tuple[str, list[Any]]:
        """Return the WHERE clause (constant fragments only) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.actor is not None:
            forms = name_forms(self.actor)  # NFC, and NFD as older journals may hold it
            marks = ", ".join("?" * len(forms))
            clauses.append(f"(recipient IN ({marks}) OR sender IN ({marks}))")
            params += [*forms, *forms]
        for column, value in (
            ("type", self.type),
            ("status", self.status),
            ("conversation", self.conversation),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.since is not None:
            clauses.append("created_at >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append("created_at < ?")
            params.append(self.until)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class DeadLetterFilters(msgspec.Struct, frozen=True, kw_only=True):
    """Which dead letters `JournalReader.dead_letters` (and a bulk requeue) select."""

    actor: str | None = None
    """Dead letters to this actor (the one whose handler failed)."""
    type: str | None = None
    since: float | None = None
    """Created at or after this UNIX time."""

    def query(self) -> tuple[str, list[Any]]:
        """The SELECT of these dead letters in seq order (constant fragments only), and its
        parameters."""
        sql = (
            f"SELECT {MESSAGE_COLUMNS} FROM messages INDEXED BY messages_dead WHERE status = 'dead'"
        )
        params: list[Any] = []
        if self.actor is not None:
            forms = name_forms(self.actor)  # NFC, and NFD as older journals may hold it
            sql += f" AND recipient IN ({', '.join('?' * len(forms))})"
            params += forms
        for clause, value in (
            (" AND type = ?", self.type),
            (" AND created_at >= ?", self.since),
        ):
            if value is not None:
                sql += clause
                params.append(value)
        return sql + " ORDER BY seq", params


class OldestPending(msgspec.Struct, frozen=True):
    seq: int
    id: str
    created_at: float


class JournalSummary(msgspec.Struct, frozen=True):
    """A journal's summary."""

    file: str
    size_bytes: int
    wal_bytes: int
    schema_version: int
    messages: dict[str, int]
    actors: int
    dead_letters: int
    oldest_pending: OldestPending | None


class ActorSummary(msgspec.Struct, frozen=True):
    """One row of ``journal actors``."""

    name: str
    kind: str
    state_bytes: int | None
    pending: int
    handled: int
    updated_at: float
    state_error: str | None = None
    """Why the stored state cannot be decoded (the runtime leaves such an actor out, J5)."""


@final
class JournalReader:
    """A read-only connection to a journal this actorflow can read: a SQLite file, or a
    PostgreSQL database (C1).

    Open it with `JournalReader.open`, which raises a `JournalError` that says what is wrong
    and what to do for a missing file, a file that is not SQLite, a SQLite file that is not a
    journal, an unreachable server or a refused password, a database without a journal, and a
    journal of another schema version.
    """

    def __init__(self, source: Source) -> None:
        self.name = source.name
        """The journal as messages name it: its path, or its URL without the password."""
        self.schema_version = source.schema_version
        self._source = source

    @classmethod
    @contextlib.contextmanager
    def open(cls, journal: Path | str, *, where_from: str = "") -> Iterator[JournalReader]:
        """Open `journal` read-only: a path, or a ``postgresql://`` URL; `where_from` says how
        it was chosen."""
        source = open_source(journal, where_from)
        try:
            yield cls(source)
        finally:
            source.close()

    # -- queries -------------------------------------------------------------------------------

    def stats(self) -> JournalSummary:
        counts = dict.fromkeys(STATUSES, 0)
        for status, count in self._all(_STATUS_COUNTS, ()):
            if status not in counts:
                raise JournalCorrupt(
                    f"{self.name}: {count} message rows have status {status!r}, which is not"
                    f" {listed(STATUSES)}; repair those rows with the sqlite3 shell"
                )
            counts[status] = count
        (actors,) = self._one(_ACTOR_COUNT, ())
        oldest = self._all(_OLDEST_PENDING, ())
        size, wal = self.sizes()
        return JournalSummary(
            file=self._source.location,
            size_bytes=size,
            wal_bytes=wal,
            schema_version=self.schema_version,
            messages=counts,
            actors=actors,
            dead_letters=counts["dead"],
            oldest_pending=_oldest(oldest[0]) if oldest else None,
        )

    def actor_summaries(self) -> list[ActorSummary]:
        return [_summary(row) for row in self._all(_ACTOR_SUMMARIES, ())]

    def actor(self, name: str) -> ActorRecord:
        """Return the actor named `name` (in NFC or NFD); raises `ActorNotFound` if none."""
        forms = name_forms(name)
        marks = ", ".join("?" * len(forms))
        sql = f"SELECT {ACTOR_COLUMNS} FROM actors WHERE name IN ({marks}) ORDER BY name = ? DESC"
        rows = self._all(sql, (*forms, name))
        if not rows:
            raise ActorNotFound(
                f"no actor named {name!r} in {self.name}; list them with: actorflow journal actors"
            )
        return read_actor(rows[0])

    def messages(self, filters: MessageFilters, *, limit: int) -> list[MessageRecord]:
        """Messages matching `filters`, newest first."""
        where, params = filters.where()
        sql = f"SELECT {MESSAGE_COLUMNS} FROM messages{where} ORDER BY seq DESC LIMIT ?"
        return [read_message(row) for row in self._all(sql, (*params, _bounded(limit)))]

    def message(self, message_id: str) -> MessageRecord | None:
        rows = self._all(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,))
        return read_message(rows[0]) if rows else None

    def conversation(self, key: str) -> list[MessageRecord]:
        """The messages of conversation `key`, or of the one message `key` is in, in order.

        Empty if neither a conversation nor a message has that id. A message journaled without
        a conversation id is its own conversation of one.
        """
        with self.snapshot():
            return self._resolve(key)

    def _resolve(self, key: str) -> list[MessageRecord]:
        found = self._in_conversation(key)
        if found:
            return found
        message = self.message(key)
        if message is None:
            return []
        if message.conversation is None:
            return [message]
        return self._in_conversation(message.conversation)

    def _in_conversation(self, conversation: str) -> list[MessageRecord]:
        sql = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE {in_conversation('?1')} ORDER BY seq"
        return [read_message(row) for row in self._all(sql, (conversation,))]

    def caused_by(self, message: MessageRecord) -> list[MessageRecord]:
        """The messages sent while handling `message` (whose cause it is), in order.

        Looked up within its conversation (indexed), where a message's children always are.
        """
        if message.conversation is None:
            return []
        sql = (
            f"SELECT {MESSAGE_COLUMNS} FROM messages"
            f" WHERE {in_conversation('?1')} AND cause = ?2 ORDER BY seq"
        )
        return [read_message(row) for row in self._all(sql, (message.conversation, message.id))]

    def conversations(
        self, filters: ConversationFilters, *, limit: int
    ) -> list[ConversationSummary]:
        """Conversations matching `filters`, newest (the latest started) first, counted."""
        with self.snapshot():
            starts = self._all(*_starts_query(filters, _bounded(limit)))
            return [self._summarise(row) for row in starts]

    def _summarise(self, start: Any) -> ConversationSummary:
        seq, key, first_id, first_actor, first_at = start
        counts = self._all(_CONVERSATION_COUNTS, (key,))

        def build() -> ConversationSummary:
            statuses: dict[str, int] = {}
            first = read_time("created_at", first_at)
            last = first
            for status, count, created, done in counts:
                statuses[field("status", status, _STR)] = count
                last = max(last, read_time("created_at", created))
                if done is not None:
                    last = max(last, read_time("done_at", done))
            return ConversationSummary(
                id=field("conversation", key, _STR),
                first_message=field("id", first_id, _STR),
                first_actor=field("recipient", first_actor, _STR),
                statuses=statuses,
                messages=sum(statuses.values()),
                first_at=first,
                last_at=last,
                duration=last - first,
            )

        return row_checked("messages", f"seq={seq!r}", build)

    def steps(self, message_id: str) -> list[StepRecord]:
        """The steps message `message_id` recorded (J4), in the order they were recorded.

        Empty for a message that recorded none, or that is not in the journal.
        """
        sql = (
            f"SELECT {STEP_COLUMNS} FROM steps WHERE message_id = ?"
            " ORDER BY position, created_at, step COLLATE BINARY"
        )
        return [read_step(row) for row in self._all(sql, (message_id,))]

    def conversation_steps(self, key: str) -> list[StepRecord]:
        """The steps recorded by the messages of conversation `key` (or of the one message
        `key` is in), message by message in seq order; empty if neither has that id."""
        with self.snapshot():
            records = self._resolve(key)
            if not records:
                return []
            first = records[0]
            if first.conversation is None:
                return self.steps(first.id)
            rows = self._all(_CONVERSATION_STEPS, (first.conversation,))
            return [read_step(row) for row in rows]

    def timers(self, *, limit: int | None = None) -> list[TimerRecord]:
        """Pending durable timers (J6), the soonest due first; at most `limit` of them."""
        sql = f"SELECT {TIMER_COLUMNS} FROM timers ORDER BY due_at, id COLLATE BINARY LIMIT ?"
        bound = _bounded(_NO_LIMIT if limit is None else limit)
        return [read_timer(row) for row in self._all(sql, (bound,))]

    def dead_letters(
        self, *, limit: int, filters: DeadLetterFilters | None = None
    ) -> list[MessageRecord]:
        """Dead letters (those `filters` selects), newest first."""
        sql, params = (filters or DeadLetterFilters()).query()
        sql = sql.removesuffix(" ORDER BY seq") + " ORDER BY seq DESC LIMIT ?"
        return [read_message(row) for row in self._all(sql, (*params, _bounded(limit)))]

    def compactable(self, before: float) -> Compacted:
        """What compacting before `before` (a UNIX time) would remove, counted (J10)."""
        messages, steps = self._one(COUNT_COMPACTABLE, (before,))
        return Compacted(messages=messages, steps=steps, before=before)

    def newest(self, *, limit: int) -> list[MessageRecord]:
        """The `limit` newest messages, oldest of them first."""
        sql = f"SELECT {MESSAGE_COLUMNS} FROM messages ORDER BY seq DESC LIMIT ?"
        return [read_message(row) for row in reversed(self._all(sql, (_bounded(limit),)))]

    def after(self, seq: int, *, limit: int) -> list[MessageRecord]:
        """Messages appended after `seq`, in order."""
        sql = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE seq > ? ORDER BY seq LIMIT ?"
        return [read_message(row) for row in self._all(sql, (seq, _bounded(limit)))]

    def last_seq(self) -> int:
        """The newest message's sequence number (0 for an empty journal)."""
        (seq,) = self._one("SELECT coalesce(max(seq), 0) FROM messages", ())
        return int(seq)

    def data_version(self) -> int:
        """A number that changes whenever another connection commits to the journal."""
        return self._source.data_version()

    def sizes(self) -> tuple[int, int]:
        """The bytes the journal takes (the file; on PostgreSQL its tables and indexes), and
        those of its WAL file (0 on PostgreSQL, whose WAL is the server's)."""
        return self._source.sizes()

    def snapshot(self) -> AbstractContextManager[None]:
        """Read everything inside from one committed state of the journal (nested: the outer
        one's)."""
        return self._source.snapshot()

    def all_messages(self) -> Iterator[MessageRecord]:
        """Every message in order, read as it is printed (a journal may not fit in memory)."""
        for row in self._iterate(f"SELECT {MESSAGE_COLUMNS} FROM messages ORDER BY seq"):
            yield read_message(row)

    def turns(self, conversation: str) -> list[TurnRecord]:
        """The recorded turns of conversation `conversation`, in seq order (R2, replays)."""
        with self.snapshot():
            steps = self._all(CONVERSATION_STEPS, (conversation,))
            return turns_of(self._all(CONVERSATION_TURNS, (conversation,)), steps)

    def timers_of(self, conversation: str) -> list[TimerRecord]:
        """The timers set in conversation `conversation` that have not fired, soonest first."""
        sql = (
            f"SELECT {TIMER_COLUMNS} FROM timers WHERE conversation = ?"
            " ORDER BY due_at, id COLLATE BINARY"
        )
        return [read_timer(row) for row in self._all(sql, (conversation,))]

    def all_actors(self) -> Iterator[ActorRecord]:
        for row in self._iterate(
            f"SELECT {ACTOR_COLUMNS} FROM actors ORDER BY name COLLATE BINARY"
        ):
            yield read_actor(row)

    # -- plumbing ------------------------------------------------------------------------------

    def _all(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        return self._source.rows(sql, params)

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        return self._all(sql, params)[0]

    def _iterate(self, sql: str) -> Iterator[Any]:
        return self._source.iterate(sql)


def open_source(journal: Path | str, where_from: str = "") -> Source:
    """A checked read-only `Source` for `journal`: a path, or a ``postgresql://`` URL."""
    if not is_postgres_url(journal):
        return SQLiteSource(Path(journal), where_from=where_from)
    try:
        from ._pg_source import PostgresSource
    except ImportError as exc:
        raise JournalError(
            f"a PostgreSQL journal needs psycopg, which is not installed ({exc}); install it"
            " with: pip install 'actorflow[postgres]'"
        ) from exc
    return PostgresSource(str(journal))


def journal_name(journal: Path | str) -> str:
    """`journal` as messages name it: a path as given, a URL without its password."""
    if is_postgres_url(journal):
        from ._pg_connect import shown

        return shown(str(journal))
    return str(journal)


def open_writable(path: Path, *, where_from: str = "") -> sqlite3.Connection:
    """A read-write connection (autocommit, `BUSY_TIMEOUT`) to the journal file at `path`,
    checked as `JournalReader.open` checks it; the caller closes it. Writes go in ``BEGIN
    IMMEDIATE``."""
    conn = connect(path, "rw", where_from)
    try:
        check(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def unknown_message(journal: Path | str, message_id: str) -> MessageNotFound:
    """The error for an id no message of the journal has."""
    return MessageNotFound(
        f"no message with id {message_id!r} in {journal_name(journal)}; find ids with:"
        " actorflow journal messages"
    )


def msgpack_problem(data: bytes | None) -> str | None:
    """Why `data` is not msgpack (as a stored state must be), or None if it is (or is None)."""
    if data is None:
        return None
    try:
        msgspec.msgpack.decode(data)
    except msgspec.DecodeError as exc:
        return f"cannot decode {len(data)} bytes as msgpack: {exc}"
    return None


def decode_msgpack(data: bytes | None) -> tuple[msgspec.Raw | None, str | None]:
    """Decode stored msgpack generically, to JSON: (the JSON, None) or (None, what was wrong).

    The CLI knows no user's message or state classes, so it decodes any msgpack value; bytes
    that are not msgpack, or decode to something JSON cannot hold, give a reason, not an error.
    """
    if data is None:
        return None, None
    try:
        value = msgspec.msgpack.decode(data)
    except msgspec.DecodeError as exc:
        return None, f"cannot decode {len(data)} bytes as msgpack: {exc}"
    try:
        return msgspec.Raw(msgspec.json.encode(value)), None
    except (TypeError, ValueError, OverflowError) as exc:
        return None, f"decoded from msgpack, but has no JSON form: {exc}"


def _starts_query(filters: ConversationFilters, limit: int) -> tuple[str, tuple[Any, ...]]:
    """The query of the first messages of the conversations `filters` selects, newest first
    (constant fragments only), and its parameters."""
    params: list[Any] = []
    rare = None if filters.status is None else _RARE_STATUS_KEYS.get(filters.status)
    if rare is not None:
        key = "c.k"
        source = _RARE_KEYS.format(keys=rare)
        clauses = []
    else:
        key = _SCAN_KEY
        source = "messages AS m"
        clauses = [_IS_START.format(key=key)]
        if filters.status is not None:
            clauses.append(_HAS_STATUS.format(key=key))
            params.append(filters.status)
    if filters.since is not None:
        clauses.append("m.created_at >= ?")
        params.append(filters.since)
    if filters.until is not None:
        clauses.append("m.created_at < ?")
        params.append(filters.until)
    if filters.actor is not None:
        forms = name_forms(filters.actor)  # NFC, and NFD as older journals may hold it
        clauses.append(_HAS_ACTOR.format(key=key, marks=", ".join("?" * len(forms))))
        params += [*forms, *forms]
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    columns = _START_COLUMNS.format(key=key)
    sql = f"SELECT {columns} FROM {source}{where} ORDER BY m.seq DESC LIMIT ?"
    return sql, (*params, limit)


_NO_LIMIT: Final = 2**63 - 1
"""The largest LIMIT either engine binds (a BIGINT): beyond any journal, so no limit."""


def _bounded(limit: int) -> int:
    """A LIMIT SQLite and PostgreSQL can bind: a larger one (beyond any journal) is none."""
    return min(limit, _NO_LIMIT)


# -- rows --------------------------------------------------------------------------------------
# Rows are checked against the schema's types: a row written by something else (or damaged)
# gives one `JournalCorrupt` naming it, never a traceback from deep in the output code.


def _summary(row: Any) -> ActorSummary:
    name, kind, state, handled, updated_at, pending = row

    def build() -> ActorSummary:
        data = field("state", state, (bytes,), null=True)
        return ActorSummary(
            name=field("name", name, _STR),
            kind=field("kind", kind, _STR),
            state_bytes=None if data is None else len(data),
            pending=pending,
            handled=field("handled", handled, (int,)),
            updated_at=read_time("updated_at", updated_at),
            state_error=msgpack_problem(data),
        )

    return row_checked("actors", f"name={name!r}", build)


def _oldest(row: Any) -> OldestPending:
    seq, m_id, created_at = row

    def build() -> OldestPending:
        return OldestPending(
            seq=field("seq", seq, (int,)),
            id=field("id", m_id, _STR),
            created_at=read_time("created_at", created_at),
        )

    return row_checked("messages", f"seq={seq!r}", build)


_STR: Final = (str,)


def duration(seconds: float) -> str:
    """A duration for people, as the CLI and the web UI show it: ``250 ms``, ``9,999 ms``,
    ``12.5 s``, ``4m 05s``, ``3h 07m``, ``2d 04h``."""
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    if seconds < 10:
        text = f"{seconds * 1000:,.0f} ms"
    elif seconds < 120:
        text = f"{seconds:.1f} s"
    elif seconds < 7200:
        text = f"{int(seconds // 60)}m {int(seconds % 60):02d}s"
    elif seconds < 172800:
        text = f"{int(seconds // 3600)}h {int(seconds % 3600 // 60):02d}m"
    else:
        text = f"{int(seconds // 86400)}d {int(seconds % 86400 // 3600):02d}h"
    return sign + text
