"""The SQL of an ask across nodes on PostgreSQL (C4): the reply travels through the database.

1. The asking node registers the ask in ``actorflow_asks`` (`ASK_OUT`, its own transaction,
   committed before the message is appended): the message id, the node, and when the ask
   expires (its timeout, by the database's clock).
2. The owner's turn commits the reply with the message's done-mark, in the same transaction
   (`REPLIES`, one statement of the group commit's pipeline, only when the batch has one):
   a reply row is written only for an ask still registered, so a reply nobody waits for any
   more is not written at all. The owner then notifies the nodes (``NOTIFY`` after the
   commit, never inside it).
3. The asking node reads its answers (`ANSWERS`): a reply, or the message's end without one
   (dead, cancelled); once they have reached it, it deletes them with their asks (`FORGET`),
   as an asker that stops waiting (its timeout) deletes its ask and any reply. Never in the
   read's own statement: a read whose answer is lost (a cut connection, a server gone right
   after its commit) is tried again, and must find again what it found.

Rows of an asker that died before it could do either expire with their ask: `SWEEP_ASKS` and
`SWEEP_REPLIES` delete them, run by every node's next ask, by the asking node's polls, and by
`compact`. There is no foreign key from a reply to its ask (a commit of the owner must never
fail because its asker gave up in the same instant), so a reply can outlive its ask by a
race; it expires like one.
"""

from __future__ import annotations

from typing import Any, Final

from ._pg_arrays import ByteaArray, TextArray
from ._records import Answer, Done, Reply

__all__ = [
    "ANSWERS",
    "ASK_OUT",
    "FORGET",
    "REPLIES",
    "SWEEP_ASKS",
    "SWEEP_REPLIES",
    "answer_of",
    "reply_params",
]

ASK_OUT: Final = (
    "INSERT INTO actorflow_asks (message_id, node, asked_at, expires_at)"
    " VALUES (%s, %s, clock_timestamp(), clock_timestamp() + make_interval(secs => %s))"
    " ON CONFLICT (message_id) DO NOTHING"  # sent again after a lost connection
)
SWEEP_ASKS: Final = "DELETE FROM actorflow_asks WHERE expires_at < clock_timestamp()"
SWEEP_REPLIES: Final = "DELETE FROM actorflow_replies WHERE expires_at < clock_timestamp()"
# In the owner's group commit: the replies' message ids, types, bodies and errors, as arrays.
REPLIES: Final = (
    "INSERT INTO actorflow_replies (message_id, type, body, error, expires_at)"
    " SELECT a.message_id, v.type, v.body, v.error, a.expires_at FROM"
    " unnest(%b::text[], %b::text[], %b::bytea[], %b::text[]) AS v(id, type, body, error)"
    " JOIN actorflow_asks AS a ON a.message_id = v.id"
    " ON CONFLICT (message_id) DO NOTHING"
)
ANSWERS: Final = (
    "SELECT a.message_id, m.status, r.type, r.body, r.error, m.error, m.traceback,"
    " m.cancelled_by, r.message_id IS NOT NULL"
    " FROM actorflow_asks AS a JOIN messages AS m ON m.id = a.message_id"
    " LEFT JOIN actorflow_replies AS r ON r.message_id = a.message_id"
    " WHERE a.message_id = ANY(%s::text[])"
    " AND (r.message_id IS NOT NULL OR m.status IN ('done', 'dead', 'cancelled'))"
)
FORGET: Final = (
    "WITH asks AS (DELETE FROM actorflow_asks WHERE message_id = ANY(%(ids)s::text[]))"
    " DELETE FROM actorflow_replies WHERE message_id = ANY(%(ids)s::text[])"
)


def reply_params(done: list[Done]) -> tuple[object, ...] | None:
    """The parameters of `REPLIES` for the done-marks of `done` that carry a reply to an ask,
    or None when none does."""
    answered = [(d.message_id, d.answer) for d in done if d.answer is not None]
    if not answered:
        return None
    return (
        TextArray([m_id for m_id, _ in answered], "actorflow_replies.message_id"),
        TextArray([a.type for _, a in answered], "actorflow_replies.type"),
        ByteaArray([a.body for _, a in answered], "actorflow_replies.body"),
        TextArray([a.error for _, a in answered], "actorflow_replies.error"),
    )


def answer_of(row: Any) -> Answer:
    """An `ANSWERS` row as an `Answer`."""
    message_id, status, reply_type, body, reply_error, error, traceback, by, replied = row
    reply = (
        Reply(str(reply_type), None if body is None else bytes(body), reply_error)
        if replied
        else None
    )
    return Answer(
        str(message_id), status, reply=reply, error=error, traceback=traceback, cancelled_by=by
    )
