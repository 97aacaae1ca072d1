"""The journal backend interface (J12): what the runtime needs of any storage engine.

Every backend passes the conformance suite in `tests/journal/test_conformance.py`: replay order,
monotonic sequence numbers, atomic batches, idempotent appends by id (also after reopening),
typed errors for rows that cannot be read while their neighbours stay readable.
"""

from __future__ import annotations

from typing import Protocol

from ._records import ActorRecord, Batch, MessageRecord

__all__ = ["JournalBackend"]


class JournalBackend(Protocol):
    """Storage for messages, actor states and dead letters; one writer, any number of readers."""

    async def open(self) -> None:
        """Open, creating or migrating the schema; raise `JournalSchemaError` for a foreign file."""
        ...

    async def close(self) -> None:
        """Release connections and files; safe to call twice."""
        ...

    async def write(self, batch: Batch) -> list[int | None]:
        """Apply `batch` in one transaction; all of it commits or none of it does.

        Returns, for each append in order, its sequence number, or None when a message with
        that id already existed (the append was a no-op). Raises `JournalError` subclasses.
        """
        ...

    async def actors(self) -> list[ActorRecord]:
        """Every durable actor, in registration order."""
        ...

    async def actor(self, name: str) -> ActorRecord | None:
        """One durable actor, or None."""
        ...

    async def pending(
        self, recipient: str | None = None, *, after: int = 0, limit: int | None = None
    ) -> list[MessageRecord]:
        """Pending messages (of `recipient`, or all) with seq > `after`, in seq order."""
        ...

    async def message(self, message_id: str) -> MessageRecord | None:
        """One message by id, or None."""
        ...

    async def dead_letters(self, *, limit: int | None = None) -> list[MessageRecord]:
        """Dead messages, oldest first."""
        ...

    async def schema_version(self) -> int:
        """The schema version of the open journal."""
        ...
