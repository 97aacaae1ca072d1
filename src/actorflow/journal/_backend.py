"""The journal backend interface (J12): what the runtime needs of any storage engine.

Every backend passes the conformance suite in `tests/journal/test_conformance.py`: replay order,
monotonic sequence numbers, atomic batches, idempotent appends by id (also after reopening),
typed errors for rows that cannot be read while their neighbours stay readable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, runtime_checkable

from .._errors import JournalError
from ._records import (
    ActorRecord,
    Answer,
    Batch,
    Compacted,
    MessageRecord,
    TimerRecord,
    TurnRecord,
)

__all__ = ["AskChannel", "CommitNotFollowed", "JournalBackend", "PipelinedWrites"]


class JournalBackend(Protocol):
    """Storage for messages, actor states, steps, timers and dead letters; one writer, any number
    of readers."""

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

    async def steps(self, message_id: str) -> dict[str, bytes]:
        """The recorded step results of one message, by step (J4).

        An empty result is a started marker (T2): see `StepRecord`.
        """
        ...

    async def timers(self) -> list[TimerRecord]:
        """Every timer not fired or cancelled yet, soonest first (J6)."""
        ...

    async def conversation(self, conversation: str) -> list[MessageRecord]:
        """Every message of one conversation, in seq order (J7)."""
        ...

    async def turns(self, conversation: str) -> list[TurnRecord]:
        """The recorded turns of one conversation's done messages, in seq order (R2).

        Each has the actor's state before and after its handler (from `Done.before` and
        `Done.state`), its reply (`Done.reply`) and its steps in the order they were called
        (`StepRecord.position`); `recorded` is False for a turn written with
        ``Done.recorded=False``.
        """
        ...

    async def pin(self, conversation: str, pinned: bool = True) -> bool:
        """Pin `conversation` so that `compact` keeps all of it (R2), or unpin it.

        Returns False when it already was (or, unpinning, was not) pinned.
        """
        ...

    async def pinned(self) -> list[str]:
        """The pinned conversations, oldest pin first."""
        ...

    async def take_notices(self) -> list[MessageRecord]:
        """Take the notices of messages appended, re-queued or cancelled by other processes
        (J11).

        Returns the messages they name that are still pending or cancelled (status
        ``cancelled``: the system drops them from mailboxes and disarms the timers of those
        ids), in seq order, and removes the notices in the same transaction, so each is taken
        once.
        """
        ...

    def watch_notices(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call `wake` (on the event loop) when another process may have left notices.

        Returns a function that stops watching. A backend that cannot be told may never call
        `wake`: the system also looks for notices once a second.
        """
        ...

    async def join(self, changed: Callable[[], Awaitable[None]]) -> None:
        """Become one of the nodes sharing this journal (C2), owning a share of its actors.

        A running system joins once, after `open`; what it owns may change from then on (a
        node joins or leaves, a lease lapses), and the backend awaits `changed` each time,
        after which `owns` answers anew. A backend of one node owns everything and never
        calls `changed`. Raises `NodeNameTaken`, `JournalError` subclasses.
        """
        ...

    def owns(self, actor: str) -> bool:
        """Whether this node owns durable actor `actor` (C2): only the owner restores it,
        handles its messages and fires its timers; a commit for an actor it does not own is
        refused with `OwnershipLost`. Before `join`, every actor."""
        ...

    async def compact(self, before: float) -> Compacted:
        """Delete messages done or cancelled before `before` (Unix time) and their steps (J10).

        Never touches actors, pending or dead messages, timers, or the messages (and steps)
        of a pinned conversation (`pin`).
        """
        ...

    async def schema_version(self) -> int:
        """The schema version of the open journal."""
        ...


class CommitNotFollowed(JournalError):
    """Raised by `PipelinedWrites.write_following` when the write sent before it did not
    commit, or when the backend cannot tell that it did first (a server reached by this one
    before that one): nothing of this one was written, and it may be sent again as it is."""


@runtime_checkable
class PipelinedWrites(Protocol):
    """What a backend adds whose commits can be on their way several at a time (J2, J3): a
    server journal, where the next commit waits at the server, not in this process, while the
    one before it lands. A backend of one file (SQLite, memory) commits one at a time, and
    does not implement it.

    The journal's writer sends the next batches (`write_following`) while the one before them
    is on its way, up to `depth` commits in all, so that the server never waits for this
    process between two commits. Each commits only if, and after, the one before it
    committed: a turn's later state is never written after an earlier turn of its actor failed
    to commit (J3).
    """

    depth: int
    """How many commits may be on their way at once (2 or more)."""

    async def write_following(self, batch: Batch) -> list[int | None]:
        """As `write`, sent while the write before it (the last one called) may be on its way:
        `batch` commits after it, and only if it committed; if it did not (or the backend
        cannot tell that it did first), this raises `CommitNotFollowed` and nothing of `batch`
        was written."""
        ...


@runtime_checkable
class WritesNow(Protocol):
    """What a backend adds that can make a small commit at once, on the calling thread, without
    awaiting anything (SQLite, when its writer connection is free).

    The journal's writer uses it for a commit whose caller waits for nothing else (a step's
    result, J4) when nothing else is queued or on its way: the commit is made in the caller's
    task, sparing two task switches (the writer's and the caller's wake-ups).
    """

    def write_now(self, batch: Batch) -> list[int | None] | None:
        """As `write`, made here and now; None if it cannot be made so right now (nothing
        written: the caller writes it the usual way). A `JournalError` means the commit failed
        and wrote nothing, as from `write`."""
        ...


@runtime_checkable
class AskChannel(Protocol):
    """What a backend of several nodes adds for an ask across nodes (C4): the reply travels
    through the database. A backend of one node (SQLite, memory) has no other node to ask,
    and does not implement it.

    The asking node registers the ask (`ask_out`) before it appends the message; the owner's
    turn commits the reply with the message's done-mark, for a registered ask only (`Done.answer`,
    J3), and wakes the other nodes after the commit (as `watch_notices` is woken); the asking
    node takes its answers (`answers`), or gives up on asks (`forget_asks`).
    """

    async def ask_out(self, message_id: str, timeout: float) -> None:
        """Register an ask of this node for message `message_id` (not appended yet), to expire
        `timeout` seconds from now by the database's clock. Also deletes the expired asks of
        any node, with their replies. Raises `JournalError` subclasses."""
        ...

    async def answers(self, message_ids: Sequence[str]) -> list[Answer]:
        """Take the answers that have come for asks `message_ids`: a reply, or the message's
        end without one (dead, cancelled). Each answer taken is deleted with its ask once it
        has been read, never by the read itself (a read whose answer was lost is tried again
        and finds it again); asks not answered yet stay. Also deletes expired asks and replies.
        """
        ...

    async def forget_asks(self, message_ids: Sequence[str]) -> None:
        """Delete asks `message_ids` and whatever replies came for them (the asker stopped
        waiting: timed out, cancelled)."""
        ...
