"""The SQL a PostgreSQL journal writes with: one statement per kind of change, its rows as one
JSON parameter.

Each kind of change in a group commit is one statement whatever the number of rows, so a commit
is a fixed handful of statements sent together in one pipeline. The rows go as one JSON array of
arrays (``json_array_elements``; bytes as base64, ``decode(..., 'base64')``), encoded by msgspec
in C: psycopg dumps a Python list into a PostgreSQL array element by element in Python, which
cost ~3.5 ms for the ten arrays of 256 appends against ~0.1 ms for the same rows as JSON, and
was the largest single cost of a commit on the event loop.
Outside producers (J11) append a message and its notice in one transaction and then notify
the running system (``NOTIFY`` after the commit: inside the writer's transactions it would
serialise every commit on the notification queue's lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import msgspec

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
    "COMMIT_NUMBER",
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
    "append_rows",
    "done_rows",
    "rows_json",
    "states_of",
    "step_rows",
    "timer_rows",
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
    " SELECT r->>0, r->>1, r->>2, decode(r->>3, 'base64'), r->>4, r->>5, r->>6,"
    " (r->>7)::float8, (r->>8)::bigint, r->>9"
    " FROM json_array_elements(%s::json) WITH ORDINALITY AS v(r, n)"
    " ORDER BY n ON CONFLICT (id) DO NOTHING RETURNING id, seq"
)
CLAIM: Final = (
    "UPDATE messages SET attempts = messages.attempts + v.n"
    " FROM (SELECT id, count(*) AS n FROM json_array_elements_text(%s::json) AS id GROUP BY id)"
    " AS v WHERE messages.id = v.id AND messages.status = 'pending'"
)
# A done-mark stores the turn (R2, `turn_blob`): NULL when it was not recorded. A message
# cancelled while its handler ran is done all the same (J3), the late cancel kept beside it.
DONE_BY_SEQ: Final = (
    "UPDATE messages SET status = 'done', done_at = v.at, turn = v.turn"
    " FROM (SELECT (r->>0)::bigint AS seq, (r->>1)::float8 AS at, decode(r->>2, 'base64') AS turn"
    " FROM json_array_elements(%s::json) AS r) AS v"
    " WHERE messages.seq = v.seq AND messages.status IN ('pending', 'cancelled')"
)
DONE_BY_ID: Final = (
    "UPDATE messages SET status = 'done', done_at = v.at, turn = v.turn"
    " FROM (SELECT r->>0 AS id, (r->>1)::float8 AS at, decode(r->>2, 'base64') AS turn"
    " FROM json_array_elements(%s::json) AS r) AS v"
    " WHERE messages.id = v.id AND messages.status IN ('pending', 'cancelled')"
)
STATES: Final = (
    "UPDATE actors SET state = coalesce(v.state, actors.state),"
    " handled = actors.handled + v.n, updated_at = v.at"
    " FROM (SELECT r->>0 AS name, decode(r->>1, 'base64') AS state, (r->>2)::bigint AS n,"
    " (r->>3)::float8 AS at FROM json_array_elements(%s::json) AS r) AS v"
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
    " SELECT r->>0, r->>1, decode(r->>2, 'base64'), (r->>3)::float8, decode(r->>4, 'base64'),"
    " (r->>5)::bigint FROM json_array_elements(%s::json) AS r"
    " ON CONFLICT (message_id, step) DO UPDATE SET result = excluded.result,"
    " created_at = excluded.created_at, args = excluded.args, position = excluded.position"
    " WHERE steps.result = ''::bytea AND excluded.result <> ''::bytea"
)
TIMERS: Final = (
    f"INSERT INTO timers ({TIMER_COLUMNS})"
    " SELECT r->>0, r->>1, r->>2, decode(r->>3, 'base64'), r->>4, r->>5, r->>6, (r->>7)::float8,"
    " r->>8, (r->>9)::float8 FROM json_array_elements(%s::json) WITH ORDINALITY AS v(r, n)"
    " ORDER BY n ON CONFLICT (id) DO NOTHING"
)
CANCEL: Final = "DELETE FROM timers WHERE id IN (SELECT json_array_elements_text(%s::json))"
COMMIT_NUMBER: Final = "UPDATE actorflow_writers SET last_commit = %s WHERE writer = %s"
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


_encode: Final = msgspec.json.Encoder().encode


def rows_json(rows: Sequence[Any]) -> str:
    """`rows` (tuples, or strings for a one-column statement) as the JSON parameter of a
    statement above: bytes as base64, None as null."""
    return _encode(rows).decode()


def append_rows(appends: list[MessageRecord], now: float) -> str:
    """The parameter of `APPEND` for `appends`, in order."""
    return rows_json([message_row(m, now) for m in appends])


def timer_rows(timers: list[TimerRecord], now: float) -> str:
    """The parameter of `TIMERS` for `timers`, in order."""
    return rows_json([timer_row(t, now) for t in timers])


def states_of(batch: Batch) -> str:
    """The parameter of `STATES`: each actor's last state of the batch and its count of done
    (J3)."""
    states: dict[str, list[Any]] = {}
    for d in batch.done:
        row = states.get(d.actor)
        if row is None:
            row = states[d.actor] = [d.actor, None, 0, d.at]
        if d.state is not None:
            row[1] = d.state
        row[2] += 1
        row[3] = d.at
    return rows_json(list(states.values()))


def done_rows(done: list[Done]) -> tuple[str | None, str | None]:
    """The parameters of `DONE_BY_SEQ` and of `DONE_BY_ID` (None for no rows): each done-mark
    with its turn.

    Of two done-marks of one message in a batch the first applies, as in SQLite (where the
    second finds the message done already); an ``UPDATE ... FROM`` would pick either.
    """
    first: dict[str, Done] = {}
    for d in done:
        first.setdefault(d.message_id, d)
    by_seq = [(d.seq, d.at, turn_blob(d)) for d in first.values() if d.seq is not None]
    by_id = [(d.message_id, d.at, turn_blob(d)) for d in first.values() if d.seq is None]
    return (rows_json(by_seq) if by_seq else None, rows_json(by_id) if by_id else None)


def step_rows(batch_steps: list[StepRecord], now: float) -> str:
    """The parameter of `STEPS` for `batch_steps`: one row per step, the one SQLite's
    row-by-row inserts would leave (the first result, else the first marker)."""
    kept: dict[tuple[str, str], StepRecord] = {}
    for s in batch_steps:
        key = (s.message_id, s.step)
        first = kept.get(key)
        if first is None or (not first.result and s.result):
            kept[key] = s
    return rows_json(
        [
            (s.message_id, s.step, s.result, s.created_at or now, s.args, s.position)
            for s in kept.values()
        ]
    )
