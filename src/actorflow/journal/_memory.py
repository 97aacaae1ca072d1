"""A journal held in memory: the same semantics as SQLite, gone with the process.

For tests of durable behaviour that need no file: a "crash" is dropping the system and starting
a new one on the same `MemoryJournal` object, which keeps what was committed.
"""

from __future__ import annotations

import time
from typing import final

import msgspec

from .._errors import JournalError
from ._records import ActorRecord, Batch, MessageRecord

__all__ = ["MemoryJournal"]


@final
class MemoryJournal:
    """An in-memory journal backend (J12); survives closing and reopening, not the process."""

    def __init__(self) -> None:
        self._messages: dict[str, MessageRecord] = {}  # by id, in seq order
        self._actors: dict[str, ActorRecord] = {}
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
        messages: dict[str, MessageRecord] = {}
        actors: dict[str, ActorRecord] = {}

        def message(message_id: str) -> MessageRecord | None:
            if message_id in messages:
                return messages[message_id]
            found = self._messages.get(message_id)
            if found is not None:
                found = messages[message_id] = msgspec.structs.replace(found)
            return found

        for a in batch.actors:
            old = actors.get(a.name) or self._actors.get(a.name)
            actors[a.name] = msgspec.structs.replace(
                a,
                state=old.state if old else a.state,
                handled=old.handled if old else 0,
                created_at=old.created_at if old else (a.created_at or now),
                updated_at=now,
            )
        seqs: list[int | None] = []
        seq = self._seq
        for m in batch.appends:
            if m.id in self._messages or m.id in messages:
                seqs.append(None)
                continue
            seq += 1
            messages[m.id] = msgspec.structs.replace(
                m, seq=seq, created_at=m.created_at or now, status="pending"
            )
            seqs.append(seq)
        for message_id in batch.claims:
            found = message(message_id)
            if found is not None and found.status == "pending":
                found.attempts += 1
        for d in batch.done:
            found = message(d.message_id)  # by id: the seq, when given, names the same row
            if found is None or found.status != "pending":
                continue
            found.status, found.done_at = "done", d.at
            actor = actors.get(d.actor) or self._actors.get(d.actor)
            if actor is not None:
                actor = actors[d.actor] = msgspec.structs.replace(
                    actor,
                    state=d.state if d.state is not None else actor.state,
                    handled=actor.handled + 1,
                    updated_at=d.at,
                )
        for f in batch.failed:
            found = message(f.message_id)
            if found is not None and found.status == "pending":
                found.attempts, found.error, found.traceback = f.attempts, f.error, f.traceback
                if f.dead:
                    found.status = "dead"
        for message_id in batch.requeues:
            found = message(message_id)
            if found is not None and found.status == "dead":
                found.status, found.attempts, found.error, found.traceback = (
                    "pending",
                    0,
                    None,
                    None,
                )
        self._messages.update(messages)
        self._actors.update(actors)
        self._seq = seq
        self.commits += 1
        return seqs

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
