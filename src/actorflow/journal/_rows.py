"""Reading journal rows into records, checking every column's type (M3, J9); and the reads both
backends make, each one query and its decoding.

Shared by the SQLite and PostgreSQL backends and the CLI, so that one row reads the same way
everywhere. The queries are in SQLite's dialect; the PostgreSQL backend translates them
(`_pg_dialect.postgres_sql`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar, get_args

import msgspec

from .._errors import JournalCorrupt
from ._records import (
    ActorRecord,
    Done,
    MessageRecord,
    MessageStatus,
    StepRecord,
    TimerRecord,
    TurnRecord,
)

__all__ = [
    "ACTOR_COLUMNS",
    "CONVERSATION_STEPS",
    "CONVERSATION_TURNS",
    "Fetch",
    "MESSAGE_COLUMNS",
    "REQUEUE",
    "STATUSES",
    "STEP_COLUMNS",
    "TIMER_COLUMNS",
    "actor_row",
    "field",
    "listed",
    "message_row",
    "fetch_actor",
    "fetch_conversation",
    "fetch_dead_letters",
    "fetch_message",
    "fetch_pending",
    "fetch_schema_version",
    "fetch_steps",
    "fetch_timers",
    "conversation_parts",
    "in_conversation",
    "read_actor",
    "read_message",
    "read_message_or_corrupt",
    "read_step",
    "read_time",
    "read_timer",
    "read_turn",
    "row_checked",
    "timer_row",
    "turns_of",
    "turn_blob",
]

T = TypeVar("T")

MESSAGE_COLUMNS: Final = (
    "id, recipient, type, body, sender, conversation, cause, created_at,"
    " seq, attempts, status, error, traceback, done_at, trace, cancelled_at, cancelled_by"
)
TIMER_COLUMNS: Final = (
    "id, recipient, type, body, sender, conversation, cause, created_at, trace, due_at"
)
STEP_COLUMNS: Final = "message_id, step, result, created_at, args, position"
ACTOR_COLUMNS: Final = (
    "name, kind, args, options, state, supervisor, handled, created_at, updated_at"
)
STATUSES: Final = get_args(MessageStatus)
"""Every status a message can have, in the order views list them."""


def conversation_parts(key: str, alias: str = "") -> tuple[str, str]:
    """The two conditions that a message (of table `alias`, as ``"m."``; none by default) is
    in conversation `key` (a parameter, or an expression of the query): it is one of its
    messages other than the root, or it is the root (whose conversation is its own id).

    One of them holds just when ``conversation = key`` does; they are written apart so that an
    index leaving out the roots can answer the first. PostgreSQL's index of conversations
    holds only the messages whose conversation is not their own id (cluster version 5), which
    ``conversation <> id`` in the first condition lets it use; the root is found through the
    unique index of ids. (Written ``conversation = key AND (id = key OR ...)``, the planner
    reads the conversation through no index when the key comes from another table.) SQLite's
    index holds every message and answers both.
    """
    conversation, message_id = f"{alias}conversation", f"{alias}id"
    return (
        f"{conversation} = {key} AND {conversation} <> {message_id}",
        f"{message_id} = {key} AND {conversation} = {message_id}",
    )


def in_conversation(key: str, alias: str = "") -> str:
    """The condition that a message is in conversation `key`, parenthesized: either of
    `conversation_parts`."""
    others, root = conversation_parts(key, alias)
    return f"(({others}) OR ({root}))"


REQUEUE: Final = (
    "UPDATE messages SET status = 'pending', attempts = 0, error = NULL, traceback = NULL,"
    " done_at = NULL WHERE id = ? AND status = 'dead'"
)
"""Make a dead letter pending again (its id and place in the journal are kept)."""

CONVERSATION_STEPS: Final = (
    "SELECT message_id, step, result, created_at, args, position FROM steps"
    f" WHERE message_id IN (SELECT id FROM messages WHERE {in_conversation('?1')})"
    " ORDER BY message_id, position, created_at, step COLLATE BINARY"
)
"""The steps of one conversation's messages, each message's in the order they were called."""
CONVERSATION_TURNS: Final = (
    f"SELECT id, recipient, turn FROM messages WHERE {in_conversation('?1')}"
    " AND status = 'done' ORDER BY seq"
)
"""The turns of one conversation's handled messages, in seq order (R2)."""

_STR: Final = (str,)


def listed(words: tuple[str, ...]) -> str:
    """``a, b, c or d``."""
    return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else "".join(words)


_NUMBER: Final = (int, float)


def field(name: str, value: Any, kinds: tuple[type, ...], *, null: bool = False) -> Any:
    """Return `value` if it is one of `kinds` (or None when `null`); else raise TypeError."""
    if value is None and null:
        return None
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise TypeError(f"{name} is {type(value).__name__} {value!r:.40}")
    return value


def read_time(name: str, value: Any) -> float:
    """Read a number of seconds."""
    return float(field(name, value, _NUMBER))


def _maybe_time(name: str, value: Any) -> float | None:
    return None if value is None else read_time(name, value)


def read_message(row: Any) -> MessageRecord:
    """Read one messages row; raises `JournalCorrupt` naming it if a column is wrong."""
    (m_id, recipient, kind, body, sender, conv, cause, created, seq, attempts, status, error,
     tb, done_at, trace, cancelled_at, cancelled_by) = row  # fmt: skip

    def build() -> MessageRecord:
        if status not in STATUSES:
            raise TypeError(f"status {status!r} is not {listed(STATUSES)}")
        return MessageRecord(
            **_shared_fields(m_id, recipient, kind, body, sender, conv, cause, created),
            seq=field("seq", seq, (int,)),
            attempts=field("attempts", attempts, (int,)),
            status=status,
            error=field("error", error, _STR, null=True),
            traceback=field("traceback", tb, _STR, null=True),
            done_at=_maybe_time("done_at", done_at),
            trace=field("trace", trace, _STR, null=True),
            cancelled_at=_maybe_time("cancelled_at", cancelled_at),
            cancelled_by=field("cancelled_by", cancelled_by, _STR, null=True),
        )

    return row_checked("messages", f"seq={seq!r}", build)


def read_message_or_corrupt(row: Any) -> MessageRecord:
    """Read one messages row; a row that is not what the schema says comes back `corrupt`
    (with what could be read), so that reading many rows never fails on one."""
    try:
        return read_message(row)
    except JournalCorrupt as exc:
        m_id, recipient, kind, *_, seq, _attempts, status = row[:11]
        return MessageRecord(
            id=str(m_id),
            recipient=str(recipient),
            type=str(kind),
            body=b"",
            seq=seq if isinstance(seq, int) else 0,
            status=status if status in ("done", "dead", "cancelled") else "pending",
            corrupt=str(exc),
        )


def _shared_fields(*values: Any) -> dict[str, Any]:
    """The columns messages and timers rows share, checked: id to created_at, in order."""
    m_id, recipient, kind, body, sender, conv, cause, created = values
    return {
        "id": field("id", m_id, _STR),
        "recipient": field("recipient", recipient, _STR),
        "type": field("type", kind, _STR),
        "body": field("body", body, (bytes,)),
        "sender": field("sender", sender, _STR, null=True),
        "conversation": field("conversation", conv, _STR, null=True),
        "cause": field("cause", cause, _STR, null=True),
        "created_at": read_time("created_at", created),
    }


def read_timer(row: Any) -> TimerRecord:
    """Read one timers row; raises `JournalCorrupt` naming it if a column is wrong."""
    t_id, recipient, kind, body, sender, conv, cause, created, trace, due_at = row

    def build() -> TimerRecord:
        message = MessageRecord(
            **_shared_fields(t_id, recipient, kind, body, sender, conv, cause, created),
            trace=field("trace", trace, _STR, null=True),
        )
        return TimerRecord(message, read_time("due_at", due_at))

    return row_checked("timers", f"id={t_id!r}", build)


def read_actor(row: Any) -> ActorRecord:
    """Read one actors row; raises `JournalCorrupt` naming it if a column is wrong."""
    name, kind, args, options, state, supervisor, handled, created_at, updated_at = row

    def build() -> ActorRecord:
        return ActorRecord(
            name=field("name", name, _STR),
            kind=field("kind", kind, _STR),
            args=field("args", args, (bytes,)),
            options=field("options", options, (bytes,)),
            state=field("state", state, (bytes,), null=True),
            supervisor=field("supervisor", supervisor, _STR, null=True),
            handled=field("handled", handled, (int,)),
            created_at=read_time("created_at", created_at),
            updated_at=read_time("updated_at", updated_at),
        )

    return row_checked("actors", f"name={name!r}", build)


def row_checked(table: str, row: str, build: Callable[[], T]) -> T:
    """Run `build`; a wrong column becomes `JournalCorrupt` naming the table and the row."""
    try:
        return build()
    except (TypeError, ValueError) as exc:
        raise JournalCorrupt(
            f"journal row {table} {row} is unreadable ({exc}); repair or delete it with the"
            " sqlite3 shell"
        ) from exc


# A turn as the messages row keeps it (R2): [state before, state after, reply], each bytes or nil.
_TurnTuple = tuple[bytes | None, bytes | None, bytes | None]
_encode_turn = msgspec.msgpack.Encoder().encode
_decode_turn = msgspec.msgpack.Decoder(_TurnTuple).decode


def turn_blob(done: Done) -> bytes | None:
    """The ``turn`` column of a done message: its states and reply, or NULL (not recorded)."""
    if not done.recorded:
        return None
    return _encode_turn((done.before, done.state, done.reply))


def read_turn(message_id: Any, actor: Any, blob: Any, steps: list[StepRecord]) -> TurnRecord:
    """Read one done message's ``turn`` column; raises `JournalCorrupt` naming the row."""

    def build() -> TurnRecord:
        m_id = field("id", message_id, _STR)
        recipient = field("recipient", actor, _STR)
        data = field("turn", blob, (bytes,), null=True)
        if data is None:
            return TurnRecord(m_id, recipient, None, None, None, steps, recorded=False)
        try:
            before, after, reply = _decode_turn(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ValueError(f"turn does not decode: {exc}") from exc
        return TurnRecord(m_id, recipient, before, after, reply, steps)

    return row_checked("messages", f"id={message_id!r}", build)


def read_step(row: Any) -> StepRecord:
    """Read one steps row (message_id, step, result, created_at, args, position)."""
    message_id, step, result, created_at, args, position = row

    def build() -> StepRecord:
        return StepRecord(
            message_id=field("message_id", message_id, _STR),
            step=field("step", step, _STR),
            result=field("result", result, (bytes,)),
            created_at=read_time("created_at", created_at),
            args=field("args", args, (bytes,), null=True),
            position=field("position", position, (int,)),
        )

    return row_checked("steps", f"message_id={message_id!r} step={step!r}", build)


def turns_of(turn_rows: list[Any], step_rows: list[Any]) -> list[TurnRecord]:
    """Turns from the rows of `CONVERSATION_TURNS` and `CONVERSATION_STEPS`."""
    steps: dict[str, list[StepRecord]] = {}
    for row in step_rows:
        step = read_step(row)
        steps.setdefault(step.message_id, []).append(step)
    return [read_turn(m_id, actor, blob, steps.get(m_id, [])) for m_id, actor, blob in turn_rows]


def actor_row(a: ActorRecord, now: float) -> tuple[object, ...]:
    """An actors row for registering `a`, in the parameter order of the upserts (SQLite's and
    PostgreSQL's `UPSERT_ACTOR`): name, kind, args, options, state, supervisor, created, updated."""
    return (a.name, a.kind, a.args, a.options, a.state, a.supervisor, a.created_at or now, now)


def message_row(m: MessageRecord, now: float) -> tuple[object, ...]:
    """A messages row for `m`, in the column order of the appends (SQLite's `INSERT_MESSAGE`,
    PostgreSQL's `APPEND`)."""
    return (*_shared_row(m, now), m.attempts, m.trace)


def timer_row(timer: TimerRecord, now: float) -> tuple[object, ...]:
    """A timers row for `timer`, in `TIMER_COLUMNS` order (both backends)."""
    return (*_shared_row(timer.message, now), timer.message.trace, timer.due_at)


def _shared_row(m: MessageRecord, now: float) -> tuple[object, ...]:
    """The columns messages and timers share, in their order in both tables."""
    return (
        m.id,
        m.recipient,
        m.type,
        m.body,
        m.sender,
        m.conversation,
        m.cause,
        m.created_at or now,
    )


# -- the backends' reads -----------------------------------------------------------------------

Fetch = Callable[[str, tuple[Any, ...]], Awaitable[list[Any]]]
"""A backend's read: the rows of a query in SQLite's dialect, with its parameters."""


async def fetch_pending(
    fetch: Fetch, recipient: str | None, after: int, limit: int | None
) -> list[MessageRecord]:
    """`JournalBackend.pending`. The hint matters to SQLite: without it, it walks the whole
    history by seq for "all pending" (1M done rows: 0.2 s here); the partial index holds only
    the pending ones."""
    where, params = "status = 'pending' AND seq > ?", [after]
    if recipient is not None:
        where += " AND recipient = ?"
        params.append(recipient)  # type: ignore[arg-type]
    sql = (
        f"SELECT {MESSAGE_COLUMNS} FROM messages INDEXED BY messages_pending"
        f" WHERE {where} ORDER BY seq"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [read_message_or_corrupt(row) for row in await fetch(sql, tuple(params))]


async def fetch_message(fetch: Fetch, message_id: str) -> MessageRecord | None:
    rows = await fetch(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,))
    return read_message_or_corrupt(rows[0]) if rows else None


async def fetch_dead_letters(fetch: Fetch, limit: int | None) -> list[MessageRecord]:
    sql = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE status = 'dead' ORDER BY seq"
    params: tuple[Any, ...] = ()
    if limit is not None:
        sql += " LIMIT ?"
        params = (limit,)
    return [read_message_or_corrupt(row) for row in await fetch(sql, params)]


async def fetch_steps(fetch: Fetch, message_id: str) -> dict[str, bytes]:
    rows = await fetch("SELECT step, result FROM steps WHERE message_id = ?", (message_id,))
    return {str(step): bytes(result) for step, result in rows}


async def fetch_timers(fetch: Fetch) -> list[TimerRecord]:
    rows = await fetch(f"SELECT {TIMER_COLUMNS} FROM timers ORDER BY due_at, id COLLATE BINARY", ())
    return [read_timer(row) for row in rows]


async def fetch_conversation(fetch: Fetch, conversation: str) -> list[MessageRecord]:
    sql = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE {in_conversation('?1')} ORDER BY seq"
    return [read_message_or_corrupt(row) for row in await fetch(sql, (conversation,))]


async def fetch_actor(fetch: Fetch, name: str) -> ActorRecord | None:
    rows = await fetch(f"SELECT {ACTOR_COLUMNS} FROM actors WHERE name = ?", (name,))
    return read_actor(rows[0]) if rows else None


async def fetch_schema_version(fetch: Fetch) -> int:
    rows = await fetch("SELECT value FROM actorflow_meta WHERE key = 'schema_version'", ())
    return int(rows[0][0])
