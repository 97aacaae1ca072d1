"""A journal held in memory: the same semantics as SQLite, gone with the process.

For tests of durable behaviour that need no file: a "crash" is dropping the system and starting
a new one on the same `MemoryJournal` object, which keeps what was committed.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import final

import msgspec

from .._errors import JournalError
from ._records import (
    ActorRecord,
    Batch,
    Compacted,
    Done,
    Failed,
    MessageRecord,
    StepRecord,
    TimerRecord,
    TurnRecord,
)

__all__ = ["MemoryJournal"]


@final
class MemoryJournal:
    """An in-memory journal backend (J12); survives closing and reopening, not the process."""

    def __init__(self) -> None:
        self._messages: dict[str, MessageRecord] = {}  # by id, in seq order
        self._actors: dict[str, ActorRecord] = {}
        self._steps: dict[tuple[str, str], StepRecord] = {}
        self._timers: dict[str, TimerRecord] = {}
        self._notices: list[str] = []
        self._turns: dict[str, Done] = {}  # by message id: the done-mark that handled it (R2)
        self._pins: dict[str, float] = {}
        self._wake: Callable[[], None] | None = None
        self._seq = 0
        self._open = False
        self.commits = 0

    async def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False

    async def write(self, batch: Batch) -> list[int | None]:
        if not self._open:
            raise JournalError("memory journal is closed")
        now = time.time()
        # Work on copies of what the batch touches, then publish: all or nothing.
        draft = _Draft(self._messages, self._actors, self._seq)
        draft.register(batch.actors, now)
        seqs = draft.append(batch.appends, now)
        draft.claim(batch.claims)
        done = draft.mark_done(batch.done)
        draft.fail(batch.failed)
        draft.requeue(batch.requeues)
        timers = {t.id: t for t in reversed(batch.timers)}
        self._messages.update(draft.messages)
        self._actors.update(draft.actors)
        for step in batch.steps:
            # The first result is kept; a result replaces a started marker (empty, T2).
            key = (step.message_id, step.step)
            kept = self._steps.get(key)
            if kept is None or (not kept.result and step.result):
                self._steps[key] = msgspec.structs.replace(step, created_at=now)
        for timer_id, timer in timers.items():
            self._timers.setdefault(timer_id, timer)
        for timer_id in batch.cancels:
            self._timers.pop(timer_id, None)
        for d in done:
            self._turns[d.message_id] = d
        self._seq = draft.seq
        self.commits += 1
        return seqs

    def append_outside(self, message: MessageRecord) -> int | None:
        """Append `message` as another process would (J11): with a notice for the system."""
        if message.id in self._messages:
            return None
        self._seq += 1
        self._messages[message.id] = msgspec.structs.replace(
            message, seq=self._seq, created_at=message.created_at or time.time()
        )
        self._notices.append(message.id)
        if self._wake is not None:
            self._wake()
        return self._seq

    def cancel_outside(self, message_ids: list[str], *, by: str, at: float) -> list[str]:
        """Cancel pending messages and timers as another process would (``actorflow journal
        cancel``): with a notice for the system each; returns the ids cancelled."""
        cancelled: list[str] = []
        for message_id in message_ids:
            found = self._messages.get(message_id)
            if found is not None and found.status == "pending":
                found.status, found.cancelled_at, found.cancelled_by = "cancelled", at, by
            elif found is None and message_id in self._timers:
                timer = self._timers.pop(message_id)
                self._seq += 1
                self._messages[message_id] = msgspec.structs.replace(
                    timer.message,
                    seq=self._seq,
                    attempts=0,
                    status="cancelled",
                    cancelled_at=at,
                    cancelled_by=by,
                )
            else:
                continue
            cancelled.append(message_id)
            self._notices.append(message_id)
        if cancelled and self._wake is not None:
            self._wake()
        return cancelled

    async def join(self, changed: Callable[[], Awaitable[None]]) -> None:
        """One node owns this journal, and every actor of it (C2): nothing to claim."""

    def owns(self, actor: str) -> bool:
        """Every actor is this node's (C2)."""
        return True

    def watch_notices(self, wake: Callable[[], None]) -> Callable[[], None]:
        self._wake = wake

        def stop() -> None:
            self._wake = None

        return stop

    async def take_notices(self) -> list[MessageRecord]:
        taken, self._notices = self._notices, []
        found = [self._messages.get(message_id) for message_id in taken]
        return sorted(
            (
                msgspec.structs.replace(m)
                for m in found
                if m is not None and m.status in ("pending", "cancelled")
            ),
            key=lambda m: m.seq,
        )

    async def compact(self, before: float) -> Compacted:
        gone = [
            m.id
            for m in self._messages.values()
            if (
                (m.status == "done" and m.done_at is not None and m.done_at < before)
                or (
                    m.status == "cancelled"
                    and m.cancelled_at is not None
                    and m.cancelled_at < before
                )
            )
            and (m.conversation or m.id) not in self._pins
        ]
        for message_id in gone:
            del self._messages[message_id]
            self._turns.pop(message_id, None)
        stale = [key for key in self._steps if key[0] not in self._messages]
        for key in stale:
            del self._steps[key]
        return Compacted(messages=len(gone), steps=len(stale), before=before)

    async def steps(self, message_id: str) -> dict[str, bytes]:
        return {step: st.result for (m_id, step), st in self._steps.items() if m_id == message_id}

    async def pin(self, conversation: str, pinned: bool = True) -> bool:
        if pinned:
            if conversation in self._pins:
                return False
            self._pins[conversation] = time.time()
            return True
        return self._pins.pop(conversation, None) is not None

    async def pinned(self) -> list[str]:
        return list(self._pins)

    async def turns(self, conversation: str) -> list[TurnRecord]:
        found = []
        for m in sorted(self._messages.values(), key=lambda m: m.seq):
            d = self._turns.get(m.id)
            if m.conversation != conversation or m.status != "done" or d is None:
                continue
            steps = sorted(
                (st for (m_id, _), st in self._steps.items() if m_id == m.id),
                key=lambda st: (st.position, st.created_at),
            )
            if d.recorded:
                found.append(TurnRecord(m.id, m.recipient, d.before, d.state, d.reply, steps))
            else:
                found.append(TurnRecord(m.id, m.recipient, None, None, None, steps, False))
        return found

    async def timers(self) -> list[TimerRecord]:
        return sorted(self._timers.values(), key=lambda t: (t.due_at, t.id))

    async def conversation(self, conversation: str) -> list[MessageRecord]:
        return [
            msgspec.structs.replace(m)
            for m in sorted(self._messages.values(), key=lambda m: m.seq)
            if m.conversation == conversation
        ]

    async def actors(self) -> list[ActorRecord]:
        return [msgspec.structs.replace(a) for a in self._actors.values()]

    async def actor(self, name: str) -> ActorRecord | None:
        found = self._actors.get(name)
        return None if found is None else msgspec.structs.replace(found)

    async def pending(
        self, recipient: str | None = None, *, after: int = 0, limit: int | None = None
    ) -> list[MessageRecord]:
        found = [
            msgspec.structs.replace(m)
            for m in sorted(self._messages.values(), key=lambda m: m.seq)
            if m.status == "pending"
            and m.seq > after
            and (recipient is None or m.recipient == recipient)
        ]
        return found if limit is None else found[:limit]

    async def message(self, message_id: str) -> MessageRecord | None:
        found = self._messages.get(message_id)
        return None if found is None else msgspec.structs.replace(found)

    async def dead_letters(self, *, limit: int | None = None) -> list[MessageRecord]:
        found = [
            msgspec.structs.replace(m)
            for m in sorted(self._messages.values(), key=lambda m: m.seq)
            if m.status == "dead"
        ]
        return found if limit is None else found[:limit]

    async def schema_version(self) -> int:
        from ._schema import SCHEMA_VERSION

        return SCHEMA_VERSION

    def __repr__(self) -> str:
        return f"<MemoryJournal messages={len(self._messages)} actors={len(self._actors)}>"


class _Draft:
    """One batch's changes, made on copies of the rows it touches until it is published."""

    def __init__(
        self, messages: dict[str, MessageRecord], actors: dict[str, ActorRecord], seq: int
    ) -> None:
        self._committed_messages = messages
        self._committed_actors = actors
        self.messages: dict[str, MessageRecord] = {}
        self.actors: dict[str, ActorRecord] = {}
        self.seq = seq

    def message(self, message_id: str) -> MessageRecord | None:
        if message_id in self.messages:
            return self.messages[message_id]
        found = self._committed_messages.get(message_id)
        if found is not None:
            found = self.messages[message_id] = msgspec.structs.replace(found)
        return found

    def actor(self, name: str) -> ActorRecord | None:
        return self.actors.get(name) or self._committed_actors.get(name)

    def register(self, records: list[ActorRecord], now: float) -> None:
        for a in records:
            old = self.actor(a.name)
            self.actors[a.name] = msgspec.structs.replace(
                a,
                state=old.state if old else a.state,
                handled=old.handled if old else 0,
                created_at=old.created_at if old else (a.created_at or now),
                updated_at=now,
            )

    def append(self, records: list[MessageRecord], now: float) -> list[int | None]:
        seqs: list[int | None] = []
        for m in records:
            if m.id in self._committed_messages or m.id in self.messages:
                seqs.append(None)
                continue
            self.seq += 1
            self.messages[m.id] = msgspec.structs.replace(
                m, seq=self.seq, created_at=m.created_at or now, status="pending"
            )
            seqs.append(self.seq)
        return seqs

    def claim(self, message_ids: list[str]) -> None:
        for message_id in message_ids:
            found = self.message(message_id)
            if found is not None and found.status == "pending":
                found.attempts += 1

    def mark_done(self, done: list[Done]) -> list[Done]:
        """Mark messages done; return the done-marks that applied."""
        applied = []
        for d in done:
            found = self.message(d.message_id)  # by id: the seq, when given, names the same row
            if found is None or found.status not in ("pending", "cancelled"):
                continue  # a cancelled one whose handler ran: done all the same (J3)
            applied.append(d)
            found.status, found.done_at = "done", d.at
            actor = self.actor(d.actor)
            if actor is not None:
                self.actors[d.actor] = msgspec.structs.replace(
                    actor,
                    state=d.state if d.state is not None else actor.state,
                    handled=actor.handled + 1,
                    updated_at=d.at,
                )
        return applied

    def fail(self, failed: list[Failed]) -> None:
        for f in failed:
            found = self.message(f.message_id)
            if found is not None and found.status in ("pending", "cancelled"):
                found.attempts, found.error, found.traceback = f.attempts, f.error, f.traceback
                if f.dead and found.status == "pending":
                    found.status = "dead"

    def requeue(self, message_ids: list[str]) -> None:
        for message_id in message_ids:
            found = self.message(message_id)
            if found is not None and found.status == "dead":
                found.status, found.attempts, found.error, found.traceback = (
                    "pending",
                    0,
                    None,
                    None,
                )
