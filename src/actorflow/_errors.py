"""Every error actorflow raises, in one hierarchy rooted at `ActorflowError`.

Outside errors (msgspec, anyio) are translated where they cross into actorflow; the original is
kept as ``__cause__``.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ActorExists",
    "ActorFailed",
    "ActorNotFound",
    "ActorStopped",
    "MessageCancelled",
    "ActorflowError",
    "AskTimeout",
    "DecodeError",
    "DefinitionError",
    "EncodeError",
    "JournalCorrupt",
    "JournalError",
    "JournalFull",
    "JournalLocked",
    "JournalSchemaError",
    "JournalUnavailable",
    "MailboxFull",
    "MessageTypeError",
    "NodeNameTaken",
    "OwnershipLost",
    "RemoteFailure",
    "ReplayError",
    "StartFailed",
    "StepOutcomeUnknown",
    "SupervisorGaveUp",
    "UnexpectedReply",
]


class ActorflowError(Exception):
    """Raised by actorflow; the root of every error it defines."""

    retryable: ClassVar[bool] = True
    """Whether another attempt at a message could end otherwise than the one that raised this
    (S7). A handler's error whose class says False (any exception class may say so) makes its
    message a dead letter on that attempt, whatever attempts it has left."""


class DefinitionError(ActorflowError, TypeError):
    """Raised when a `Message`, `State` or `Actor` class is defined wrongly.

    Examples: two message types with one tag (M1), two handlers for one message type, a handler
    whose parameter is not annotated with a message type.
    """


class MessageTypeError(ActorflowError, TypeError):
    """Raised at the sender when an actor does not accept the message's type (M2).

    Nothing is enqueued or journaled.
    """


class MailboxFull(ActorflowError):
    """Raised by `ActorRef.tell_nowait` when the actor's bounded mailbox has no room (A2).

    The message was not enqueued; `await ref.tell(...)` waits for room instead.
    """


class AskTimeout(ActorflowError, TimeoutError):
    """Raised by `ActorRef.ask` when no reply came within the timeout (A3).

    A message already in the mailbox is still handled and its reply discarded; one still
    waiting for room when the time ran out was never enqueued.
    """


class ActorFailed(ActorflowError):
    """Raised to an asker when the actor failed handling its message (A3, S7).

    The handler's exception is this error's ``__cause__``. Raised after the message's last attempt,
    when it became a dead letter, or at once when the actor will not be restarted.
    """

    def __init__(self, message: str, *, actor: str) -> None:
        super().__init__(message)
        self.actor = actor


class RemoteFailure(ActorflowError):
    """Raised to an asker on another node as the ``__cause__`` of its `ActorFailed` (C4): the
    failure of the handler there, since the exception object itself cannot cross processes.

    `actor` names the actor, `type_name` the exception's class (``ValueError``), `message` its
    text; `remote_traceback` is the owner's formatted traceback when it recorded one.
    """

    def __init__(
        self, message: str, *, actor: str, type_name: str, text: str, remote_traceback: str | None
    ) -> None:
        super().__init__(message)
        self.actor = actor
        self.type_name = type_name
        self.message = text
        self.remote_traceback = remote_traceback

    @classmethod
    def of(cls, actor: str, error: str | None, remote_traceback: str | None) -> RemoteFailure:
        """From a dead letter's recorded error (``"ValueError: text"``)."""
        type_name, _, text = (error or "Exception: (no error recorded)").partition(": ")
        return cls(
            f"{type_name}: {text} (raised by actor {actor} on another node)",
            actor=actor,
            type_name=type_name,
            text=text,
            remote_traceback=remote_traceback,
        )


class ActorStopped(ActorflowError):
    """Raised when a message is sent to an actor that has stopped for good.

    Nothing was enqueued. An ask whose actor stops before handling it gets this error too.
    """

    def __init__(self, message: str, *, actor: str) -> None:
        super().__init__(message)
        self.actor = actor


class MessageCancelled(ActorflowError):
    """Raised to an asker whose message was cancelled (``actorflow journal cancel``) before
    its handler started; the message is never handled.
    """

    def __init__(self, message: str, *, actor: str, message_id: str) -> None:
        super().__init__(message)
        self.actor = actor
        self.message_id = message_id


class ActorNotFound(ActorflowError, LookupError):
    """Raised when no live actor has the name looked up."""


class ActorExists(ActorflowError):
    """Raised when spawning an actor under a name that a live actor already has."""


class StartFailed(ActorflowError):
    """Raised by ``spawn`` when the new actor's constructor or ``on_start`` hook raised.

    The actor is not registered; the hook's exception is this error's ``__cause__``.
    """


class StepOutcomeUnknown(ActorflowError):
    """Raised by ``ctx.step`` when a step's outside call started and its outcome is unknown (T2).

    The step's function had marked the call as started (``ctx.mark_step_started()``, done by
    calls that must not be repeated, such as MCP tools that are neither read-only nor
    idempotent), and then the process died or the call was lost before its result was
    recorded. The call is not made again: the message fails with this error and is a dead
    letter at once, saying so (another attempt could not learn the outcome: it is not
    `retryable`); find out what happened outside, then re-queue it or not.
    """

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, actor: str, step: str) -> None:
        super().__init__(message)
        self.actor = actor
        self.step = step


class SupervisorGaveUp(ActorflowError):
    """Raised when a supervisor exceeded its restart intensity (S4).

    Its children were stopped in reverse start order; the failure goes to its parent. When the
    root supervisor gives up, the system stops and ``actorflow.run`` exits non-zero.
    """

    def __init__(self, message: str, *, supervisor: str, actor: str) -> None:
        super().__init__(message)
        self.supervisor = supervisor
        self.actor = actor


class UnexpectedReply(ActorflowError, TypeError):
    """Raised by ``ask(..., expect=T)`` when the reply is not an instance of ``T``.

    Across nodes (C4), also when the reply does not decode as the type its handler declares.
    """


class EncodeError(ActorflowError):
    """Raised when a value cannot be encoded (an unsupported type in a message or state)."""


class DecodeError(ActorflowError):
    """Raised when bytes cannot be decoded into the expected message or state type (M3).

    The message names the expected type and what was wrong; the msgspec error is the cause.
    """


class JournalError(ActorflowError):
    """Raised when the journal cannot do what was asked; the subclasses say why (J9).

    A write that raised was not committed: nothing in it was acknowledged.
    """


class JournalLocked(JournalError):
    """Raised when another connection held the journal's write lock past the busy timeout.

    Retried by the writer before it is raised; stop the other writer or raise the timeout.
    """


class JournalFull(JournalError):
    """Raised when the disk (or the journal's size limit) has no room for a write.

    Nothing of the write was committed; free space, then send again.
    """


class JournalCorrupt(JournalError):
    """Raised when a journal row cannot be decoded, or SQLite reports a malformed file.

    The message names the table and row; the rows around it stay readable.
    """


class JournalSchemaError(JournalError):
    """Raised when a file is not an actorflow journal, or was written by a newer actorflow."""


class JournalUnavailable(JournalError):
    """Raised when the journal's server cannot be reached, or stopped answering.

    A server journal (`PostgresJournal`) reconnects and retries for its `reconnect_timeout`
    before it is raised; a write that raised it was not acknowledged.
    """


class OwnershipLost(JournalError):
    """Raised when a commit is refused because this node no longer owns what it writes (C2).

    The database checked, inside the commit's own transaction, that the node's lease is live
    by the database's clock and that it still holds, at the epoch it claimed, the shard of
    every actor whose state, done-marks, steps or timers the commit writes. Nothing of the
    commit landed: the messages it handled stay pending for their new owner, and the node
    stops the actors it lost.
    """


class NodeNameTaken(JournalError):
    """Raised when a node joins a journal under a name that a live node holds (C2).

    Give each node its own name (`ActorSystem(node=...)`, ``actorflow run --node``), or wait
    until the other node's lease lapses.
    """


class MessageNotFound(JournalError, LookupError):
    """Raised when a journal has no message with the id an operation names."""


class MessageStatusError(JournalError):
    """Raised when an operation does not fit a message's status (a requeue of a done message).

    The message says the status it has and which messages the operation takes.
    """


class ReplayError(ActorflowError):
    """Raised when a recorded conversation cannot be replayed (R1): unknown or compacted, an
    actor kind that cannot be imported, a step the record does not hold and may not call.

    `report` is the replay's report so far (an ``actorflow.replay.Replay``) when there is one,
    so the diff up to the failure can still be shown.
    """

    def __init__(self, message: str, *, report: object = None) -> None:
        super().__init__(message)
        self.report = report
