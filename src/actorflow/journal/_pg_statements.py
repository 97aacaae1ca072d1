"""The SQL a PostgreSQL journal writes with: one statement per kind of change, its rows as
typed arrays, one per column.

Each kind of change in a group commit is one statement whatever the number of rows, so a commit
is a fixed handful of statements sent together in one pipeline. The rows go as one array per
column, in binary (``unnest(%b::text[], %b::bytea[], ...)``; `_pg_arrays`), so the server reads
every value as it is stored. Until this they went as one JSON array of arrays, bytes as
base64, which the server parsed and decoded row by row: 15-20 us of the writer's backend CPU
per appended message, and as much again for its done-mark (`_pg_arrays` has the figures).
Outside producers (J11) append a message and its notice in one transaction and then notify
the running system (``NOTIFY`` after the commit: inside the writer's transactions it would
serialise every commit on the notification queue's lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from ._pg_arrays import ByteaArray, Float8Array, Int8Array, TextArray
from ._records import Batch, Done, MessageRecord, StepRecord, TimerRecord
from ._rows import (
    MESSAGE_COLUMNS,
    STEP_COLUMNS,
    TIMER_COLUMNS,
    message_row,
    timer_row,
    turn_blob,
)

__all__ = [
    "APPEND",
    "APPEND_LOCK",
    "CANCEL",
    "CHANNEL",
    "CANCELLED_TIMER",
    "CANCEL_PENDING",
    "CLAIM",
    "DELETE_DONE",
    "DELETE_STEPS",
    "DONE_BY_ID",
    "DONE_BY_SEQ",
    "FAILED",
    "NOTICE",
    "PIN",
    "PINNED",
    "REQUEUE",
    "STATES",
    "STEPS",
    "TAKE_NOTICES",
    "TIMERS",
    "UNPIN",
    "UPSERT_ACTOR",
    "append_params",
    "done_params",
    "states_params",
    "step_params",
    "text_array",
    "timer_params",
]

CHANNEL: Final = "actorflow_notices"
"""The LISTEN/NOTIFY channel outside producers notify after appending (J11)."""

APPEND_LOCK: Final = 0x61666A6C  # "afjl": held by every transaction that appends
"""The transaction-level advisory lock that makes appends commit in seq order (as SQLite's
one write lock does): a reader paging by seq never finds a lower seq committed later."""

UPSERT_ACTOR: Final = (
    "INSERT INTO actors"
    " (name, kind, args, options, state, supervisor, handled, created_at, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, 0, %s, %s)"
    " ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, args = excluded.args,"
    " options = excluded.options, supervisor = excluded.supervisor,"
    " updated_at = excluded.updated_at"
)
# The rows in the order given (WITH ORDINALITY ... ORDER BY): seqs follow it, and of two rows
# with one id (or one step) the first is kept.
APPEND: Final = (
    "INSERT INTO messages"
    " (id, recipient, type, body, sender, conversation, cause, created_at, attempts, trace)"
    " SELECT id, recipient, type, body, sender, conversation, cause, created_at, attempts, trace"
    " FROM unnest(%b::text[], %b::text[], %b::text[], %b::bytea[], %b::text[], %b::text[],"
    " %b::text[], %b::float8[], %b::int8[], %b::text[]) WITH ORDINALITY AS v(id, recipient,"
    " type, body, sender, conversation, cause, created_at, attempts, trace, n)"
    " ORDER BY n ON CONFLICT (id) DO NOTHING RETURNING id, seq"
)
CLAIM: Final = (
    "UPDATE messages SET attempts = messages.attempts + v.n"
    " FROM (SELECT id, count(*) AS n FROM unnest(%b::text[]) AS id GROUP BY id)"
    " AS v WHERE messages.id = v.id AND messages.status = 'pending'"
)
# A done-mark stores the turn (R2, `turn_blob`): NULL when it was not recorded. A message
# cancelled while its handler ran is done all the same (J3), the late cancel kept beside it.
DONE_BY_SEQ: Final = (
    "UPDATE messages SET status = 'done', done_at = v.at, turn = v.turn"
    " FROM unnest(%b::int8[], %b::float8[], %b::bytea[]) AS v(seq, at, turn)"
    " WHERE messages.seq = v.seq AND messages.status IN ('pending', 'cancelled')"
)
DONE_BY_ID: Final = (
    "UPDATE messages SET status = 'done', done_at = v.at, turn = v.turn"
    " FROM unnest(%b::text[], %b::float8[], %b::bytea[]) AS v(id, at, turn)"
    " WHERE messages.id = v.id AND messages.status IN ('pending', 'cancelled')"
)
STATES: Final = (
    "UPDATE actors SET state = coalesce(v.state, actors.state),"
    " handled = actors.handled + v.n, updated_at = v.at"
    " FROM unnest(%b::text[], %b::bytea[], %b::int8[], %b::float8[]) AS v(name, state, n, at)"
    " WHERE actors.name = v.name"
)
# A failed attempt of a message cancelled meanwhile is recorded, but it stays cancelled.
FAILED: Final = (
    "UPDATE messages SET attempts = %s, error = %s, traceback = %s,"
    " status = CASE WHEN %s AND status = 'pending' THEN 'dead' ELSE status END"
    " WHERE id = %s AND status IN ('pending', 'cancelled')"
)
REQUEUE: Final = (
    "UPDATE messages SET status = 'pending', attempts = 0, error = NULL, traceback = NULL,"
    " done_at = NULL WHERE id = %s AND status = 'dead'"
)
# A result replaces a started marker (an empty result, T2); nothing replaces a result. One row
# per step (`step_columns`): PostgreSQL's DO UPDATE may not touch a row twice in one statement.
STEPS: Final = (
    f"INSERT INTO steps ({STEP_COLUMNS})"
    " SELECT * FROM unnest(%b::text[], %b::text[], %b::bytea[], %b::float8[], %b::bytea[],"
    " %b::int8[])"
    " ON CONFLICT (message_id, step) DO UPDATE SET result = excluded.result,"
    " created_at = excluded.created_at, args = excluded.args, position = excluded.position"
    " WHERE steps.result = ''::bytea AND excluded.result <> ''::bytea"
)
TIMERS: Final = (
    f"INSERT INTO timers ({TIMER_COLUMNS})"
    f" SELECT {TIMER_COLUMNS}"
    " FROM unnest(%b::text[], %b::text[], %b::text[], %b::bytea[], %b::text[], %b::text[],"
    " %b::text[], %b::float8[], %b::text[], %b::float8[]) WITH ORDINALITY"
    f" AS v({TIMER_COLUMNS}, n)"
    " ORDER BY n ON CONFLICT (id) DO NOTHING"
)
CANCEL: Final = "DELETE FROM timers WHERE id = ANY(%b::text[])"
NOTICE: Final = "INSERT INTO notices (message_id) VALUES (%s)"
TAKE_NOTICES: Final = (
    "WITH taken AS (DELETE FROM notices RETURNING message_id)"
    f" SELECT {MESSAGE_COLUMNS} FROM messages WHERE status IN ('pending', 'cancelled')"
    " AND id IN (SELECT message_id FROM taken) ORDER BY seq"
)
# J10: done messages older than the cutoff and their steps, cancelled ones likewise by when
# they were cancelled, and steps whose message is gone. Messages of a pinned conversation
# stay, with their steps and turns (R2): a replay needs them.
_NOT_PINNED: Final = "coalesce(conversation, id) NOT IN (SELECT conversation FROM pins)"
DELETE_STEPS: Final = (
    "DELETE FROM steps WHERE message_id IN (SELECT id FROM messages"
    f" WHERE status = 'done' AND done_at < %(before)s AND {_NOT_PINNED})"
    " OR message_id IN (SELECT id FROM messages"
    f" WHERE status = 'cancelled' AND cancelled_at < %(before)s AND {_NOT_PINNED})"
    " OR NOT EXISTS (SELECT 1 FROM messages WHERE messages.id = steps.message_id)"
)
DELETE_DONE: Final = (
    "DELETE FROM messages WHERE (status = 'done' AND done_at < %(before)s"
    " OR status = 'cancelled' AND cancelled_at < %(before)s)"
    f" AND {_NOT_PINNED}"
)
# Cancelling from outside (`_pg_outside.cancel_outside`): a pending message becomes
# 'cancelled' with who and when; a cancelled timer's row moves into messages as the cancelled
# message it would have sent, so a fire of it racing the cancel appends nothing.
CANCEL_PENDING: Final = (
    "UPDATE messages SET status = 'cancelled', cancelled_at = %s, cancelled_by = %s"
    " WHERE id = %s AND status = 'pending' RETURNING id"
)
CANCELLED_TIMER: Final = (
    "WITH gone AS (DELETE FROM timers WHERE id = %s RETURNING *)"
    " INSERT INTO messages (id, recipient, type, body, sender, conversation, cause, created_at,"
    " attempts, trace, status, cancelled_at, cancelled_by)"
    " SELECT id, recipient, type, body, sender, conversation, cause, created_at, 0, trace,"
    " 'cancelled', %s, %s FROM gone ON CONFLICT (id) DO NOTHING RETURNING id"
)
PIN: Final = (
    "INSERT INTO pins (conversation, pinned_at) VALUES (%s, %s)"
    " ON CONFLICT (conversation) DO NOTHING"
)
UNPIN: Final = "DELETE FROM pins WHERE conversation = %s"
PINNED: Final = "SELECT conversation FROM pins ORDER BY number"


def append_params(appends: list[MessageRecord], now: float) -> tuple[object, ...]:
    """The parameters of `APPEND` for `appends`, in order: one array per column."""
    ids, recipients, types, bodies, senders, conversations, causes, created, attempts, traces = zip(
        *[message_row(m, now) for m in appends], strict=True
    )
    return (
        TextArray(ids, "messages.id"),
        TextArray(recipients, "messages.recipient"),
        TextArray(types, "messages.type"),
        ByteaArray(bodies, "messages.body"),
        TextArray(senders, "messages.sender"),
        TextArray(conversations, "messages.conversation"),
        TextArray(causes, "messages.cause"),
        Float8Array(created, "messages.created_at"),
        Int8Array(attempts, "messages.attempts"),
        TextArray(traces, "messages.trace"),
    )


def text_array(values: Sequence[str], name: str) -> TextArray:
    """A ``text[]`` parameter of `values`, in order (the ids of `CLAIM`, `CANCEL`, ...), for
    the column `name`."""
    return TextArray(values, name)


def timer_params(timers: list[TimerRecord], now: float) -> tuple[object, ...]:
    """The parameters of `TIMERS` for `timers` (not empty), in order: one array per column."""
    ids, recipients, types, bodies, senders, conversations, causes, created, traces, due = zip(
        *[timer_row(t, now) for t in timers], strict=True
    )
    return (
        TextArray(ids, "timers.id"),
        TextArray(recipients, "timers.recipient"),
        TextArray(types, "timers.type"),
        ByteaArray(bodies, "timers.body"),
        TextArray(senders, "timers.sender"),
        TextArray(conversations, "timers.conversation"),
        TextArray(causes, "timers.cause"),
        Float8Array(created, "timers.created_at"),
        TextArray(traces, "timers.trace"),
        Float8Array(due, "timers.due_at"),
    )


def states_params(batch: Batch) -> tuple[object, ...]:
    """The parameters of `STATES` for a batch with done-marks: each actor's last state of the
    batch (None when none of its turns stored one), its count of done (J3) and when."""
    states: dict[str, list[Any]] = {}
    for d in batch.done:
        row = states.get(d.actor)
        if row is None:
            row = states[d.actor] = [d.actor, None, 0, d.at]
        if d.state is not None:
            row[1] = d.state
        row[2] += 1
        row[3] = d.at
    names, blobs, counts, at = zip(*states.values(), strict=True)
    return (
        TextArray(names, "actors.name"),
        ByteaArray(blobs, "actors.state"),
        Int8Array(counts, "a count of done"),
        Float8Array(at, "actors.updated_at"),
    )


def done_params(
    done: list[Done],
) -> tuple[tuple[object, ...] | None, tuple[object, ...] | None]:
    """The parameters of `DONE_BY_SEQ` and of `DONE_BY_ID` (None for no rows): each done-mark
    with its turn.

    Of two done-marks of one message in a batch the first applies, as in SQLite (where the
    second finds the message done already); an ``UPDATE ... FROM`` would pick either.
    """
    first: dict[str, Done] = {}
    for d in done:
        first.setdefault(d.message_id, d)
    seqs: list[int] = []
    by_seq: list[Done] = []
    by_id: list[Done] = []
    for d in first.values():
        if d.seq is None:
            by_id.append(d)
        else:
            seqs.append(d.seq)
            by_seq.append(d)
    return (
        _done(Int8Array(seqs, "messages.seq"), by_seq) if by_seq else None,
        _done(TextArray([d.message_id for d in by_id], "messages.id"), by_id) if by_id else None,
    )


def _done(keys: object, done: list[Done]) -> tuple[object, ...]:
    return (
        keys,
        Float8Array([d.at for d in done], "messages.done_at"),
        ByteaArray([turn_blob(d) for d in done], "messages.turn"),
    )


def step_params(batch_steps: list[StepRecord], now: float) -> tuple[object, ...]:
    """The parameters of `STEPS` for `batch_steps` (not empty): one row per step, the one
    SQLite's row-by-row inserts would leave (the first result, else the first marker)."""
    kept: dict[tuple[str, str], StepRecord] = {}
    for s in batch_steps:
        key = (s.message_id, s.step)
        first = kept.get(key)
        if first is None or (not first.result and s.result):
            kept[key] = s
    steps = list(kept.values())
    return (
        TextArray([s.message_id for s in steps], "steps.message_id"),
        TextArray([s.step for s in steps], "steps.step"),
        ByteaArray([s.result for s in steps], "steps.result"),
        Float8Array([s.created_at or now for s in steps], "steps.created_at"),
        ByteaArray([s.args for s in steps], "steps.args"),
        Int8Array([s.position for s in steps], "steps.position"),
    )
