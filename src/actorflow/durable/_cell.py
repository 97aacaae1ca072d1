"""The durable actor cell: claim, handle, commit (J3), restore (J5), unload when idle (J5).

`DurableCell` is a `JournaledCell` (whose messages are committed before they reach it) with
the in-memory loop replaced by one of turns: each message's attempt is counted before it
starts (S7), and its new state, outbox, timers and done-mark commit in one transaction before
anything it produced leaves the actor.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections import deque
from collections.abc import Iterable
from typing import Any, Final

import anyio

from .. import _outbox
from .._cell import CannotStart, Handlers
from .._crashpoints import crash_point
from .._envelope import Envelope
from .._errors import DecodeError, JournalError, OwnershipLost
from .._handlers import Behaviour
from .._lifecycle import PASSIVATED, PASSIVATING, RUNNING, is_fatal, is_requested_cancel
from .._runtime import Runtime, Supervising
from .._spec import Child
from ..journal import Done, Failed
from ._asks import is_remote_ask
from ._delivery import JournaledCell, Keeper
from ._records import encode_reply, reply_of
from ._turn import Turn
from ._writer import Chain

__all__ = ["DurableCell", "ProcessDied"]

logger = logging.getLogger("actorflow")

_MOVING_SECONDS: Final = 5.0
"""How long an actor whose commit was refused for ownership waits for its node to stop it (C2)
before it counts the refusal as a failure."""

_AHEAD: Final = 64
"""How many turns an actor handles ahead of their commits, at most (J3): enough to fill a group
commit with one actor's messages, few enough to bound what a failed commit makes it re-run."""


class ProcessDied(Exception):
    """The failure recorded for a message whose every attempt ended with the process."""


class DurableCell(JournaledCell):
    """The cell of a durable actor: a journal, a stable name, not ephemeral (J1)."""

    # Re-created from the journal: a failing first start is a failure for its supervisor
    # to handle, not an error for whoever started the system.
    recovered = False
    turn: Turn | None = None  # the turn being handled, for steps and timers
    chain: Chain | None = None  # this incarnation's turns, committed in order
    before: bytes | None = None  # the encoded state the next turn starts from (R2)
    _passivated: anyio.Event | None = None  # set once an unloading incarnation is let go
    _leaving: anyio.Event  # set when its supervisor stops it (`shutdown`)

    def __init__(
        self, spec: Child, name: str, runtime: Runtime, parent: Supervising, keeper: Keeper
    ) -> None:
        super().__init__(spec, name, runtime, parent, keeper)
        # Turns handled whose commits are on their way, oldest first (each with its commit).
        self.uncommitted: deque[Turn] = deque()
        self._landed = self.committed  # made once: each turn's commit calls it
        self._leaving = anyio.Event()

    # -- hooks of the in-memory cell -----------------------------------------------------------

    async def _before_start(self) -> None:
        if self.held is None:
            return  # restored already: a restart starts from the last committed state
        await self.keeper.restore(self)
        if self.mailbox.closed:
            raise self.stopped_error()  # stopped for good (with the system) meanwhile
        if self.committed_state is not None and self.state_codec is not None:
            try:
                self.state_codec.decode(self.committed_state)
            except DecodeError as exc:
                raise CannotStart(
                    f"actor {self.name}: its state in the journal cannot be decoded ({exc});"
                    " it stays out, its pending messages stay in the journal"
                ) from exc

    def _state_of(self, actor: Behaviour) -> Any:
        if self.committed_state is not None and self.state_codec is not None:
            return self.state_codec.decode(self.committed_state)
        return actor.initial_state()

    def _start_failure_raises(self, first: bool) -> bool:
        return first and not self.recovered

    async def _record_failure(self, envelope: Envelope, exc: BaseException, dead: bool) -> None:
        envelope.claimed = False
        if envelope.id is None:
            return
        text = f"{type(exc).__name__}: {exc}"
        trace = "".join(traceback.format_exception(exc)) if dead else None
        try:
            await self.writer.failed(Failed(envelope.id, envelope.attempts, text, trace, dead))
        except JournalError as journal_error:
            # The attempt was counted when it was claimed; only the error text is lost.
            logger.warning("could not record the failure in the journal: %s", journal_error)

    def close(self, error: BaseException | None = None, *, normal: bool = False) -> None:
        super().close(error, normal=normal)
        if self._passivated is not None:
            self._passivated.set()  # whoever waited to bring it back finds it stopped

    # -- turns ---------------------------------------------------------------------------------

    async def _serve(self, actor: Behaviour) -> None:
        """Claim, handle, commit state + outbox + done (J3), one message at a time.

        The next message is handled while the last one's commit is on its way, so that one
        actor's turns share group commits; nothing a turn produced (its outbox, reply, timers)
        leaves before its own commit. If a commit fails, the turns after it are not written
        (their `Chain`), and the actor restarts from its last committed state and handles them
        all again.
        """
        self.chain = Chain(self.mailbox.wake)
        # Each turn keeps the state it started from (R2): the state after the turn before it,
        # encoded anyway for its commit, so only an incarnation's first turn encodes one more.
        codec = self.state_codec
        recording = codec is not None and self.keeper.record_turns
        self.before = codec.encode(actor.state) if recording else None  # type: ignore[union-attr]
        self._leaving = anyio.Event()
        try:
            await self._turns(self._bind(actor), actor)
        except BaseException as exc:
            if is_requested_cancel(exc) or is_fatal(exc):
                self._rewind_if_broken()  # commits still on their way land by themselves
                raise
            await self._drain()  # a restart starts from what is committed
            broken = self._rewind_if_broken()
            if broken is not None:
                if await self._moved_away(broken):
                    return
                raise broken from exc  # the failed commit, not what followed it, counts
            if await self._moved_away(exc):
                return
            raise
        await self._drain()
        broken = self._rewind_if_broken()
        if broken is not None and not await self._moved_away(broken):
            raise broken

    async def _moved_away(self, error: BaseException) -> bool:
        """Whether `error` is a commit refused because another node owns the actor now (C2),
        and this node has stopped it since: then this incarnation ends as asked, not as a
        failure (no restart counted, nothing dead-lettered; its messages stay pending for the
        new owner). The node notices at once (the refusal makes it look at its shards); if it
        still owns the actor after `_MOVING_SECONDS` (its lease had lapsed but nobody took
        it), the refusal is a failure like any other: a restart from the last committed
        state."""
        if not isinstance(error, OwnershipLost):
            return False
        with anyio.move_on_after(_MOVING_SECONDS):
            await self._leaving.wait()
            return True
        return False

    async def shutdown(self) -> None:
        self._leaving.set()  # an incarnation waiting to hear whether it moved away: it did
        await super().shutdown()

    async def _turns(self, handlers: Handlers, actor: Behaviour) -> None:
        mailbox = self.mailbox
        max_attempts = self.spec.max_attempts
        passivate_after = self.spec.passivate_after
        chain = self.chain
        assert chain is not None  # made by `_serve`
        while self.phase is RUNNING:
            if chain.error is not None:
                broken = self._rewind_if_broken()
                if broken is not None:
                    raise broken
            envelope = self.current
            if envelope is None:
                envelope = mailbox.get_nowait()
                if envelope is None:
                    self.careful = False
                    if self._idle_waiters and not self.uncommitted:
                        self._wake_idle_waiters()
                    if passivate_after is None:
                        await mailbox.wait()
                    elif await self._idle_for(passivate_after):
                        return
                    continue
                self.current = envelope
            if self.cancelled and envelope.id in self.cancelled:
                self._drop_cancelled(envelope)  # cancelled before its handler started
                continue
            if self.uncommitted and self.careful:
                await self._drain()
                continue
            if len(self.uncommitted) >= _AHEAD:
                await asyncio.wait([self.uncommitted[0].commit])  # the oldest turn's commit
                continue
            if envelope.attempts >= max_attempts:
                # It failed every attempt before: most likely it took the process down (S7).
                await self._dead_letter_crashed(envelope)
                continue
            if not envelope.claimed:
                await self.writer.claim(envelope.id)  # type: ignore[arg-type]  # journaled
                envelope.claimed = True  # the attempt counts before it starts
            turn = self.turn = Turn(self, envelope)
            token = _outbox.enter(turn)
            try:
                handler, is_async = handlers[type(envelope.message)]
                result = handler(envelope.message)
                if is_async:
                    result = await result
            finally:
                turn.closed = True
                self.turn = None
                _outbox.leave(token)
            crash_point("turn.after_handler")
            self._commit(actor, turn, envelope, result)

    def _commit(self, actor: Behaviour, turn: Turn, envelope: Envelope, result: Any) -> None:
        """Queue a handled message's commit: state, outbox, timers, done-mark, and the next
        message's claim (J3); what the turn produced leaves once it lands (`_committed`)."""
        state = None if self.state_codec is None else self.state_codec.encode(actor.state)
        following = self.mailbox.peek()
        claim = None
        if following is not None and not following.claimed and following.id is not None:
            claim = following.id  # its first attempt rides on this commit
            following.claimed = True
        recorded = self.keeper.record_turns
        # An ask from this node waits on `envelope.reply`; one from another node is known by
        # its id, and its answer goes back with the done-mark (C4).
        remote = envelope.reply is None and is_remote_ask(envelope.id)
        answer = reply_of(result) if remote else None
        reply = None
        if recorded and result is not None and (remote or envelope.reply is not None):
            reply = encode_reply(result)  # only an ask's reply is kept (R1)
        done = Done(
            envelope.id,  # type: ignore[arg-type]  # journaled
            self.name,
            state,
            time.time(),
            envelope.seq,
            before=self.before if recorded else None,
            reply=reply,
            recorded=recorded,
            answer=answer,
        )
        self.before = state
        turn.state, turn.result = state, result
        turn.commit = self.writer.processed(
            done,
            turn.records or (),
            turn.deliveries or (),
            claim,
            turn.timers or (),
            turn.cancels or (),
            chain=self.chain,
            after=self._landed,
            handled=turn,
        )
        self.uncommitted.append(turn)
        self.current = None

    def committed(self, turn: Turn) -> None:
        """`turn`'s commit landed (called in the writer): its outbox, timers and reply go."""
        envelope, state, result = turn.envelope, turn.state, turn.result
        if self.uncommitted and self.uncommitted[0] is turn:
            self.uncommitted.popleft()
        if self.cancelled and envelope.id is not None:
            self.cancelled.pop(envelope.id, None)  # handled after all: it is done (J3)
        if state is not None:
            self.committed_state = state
        self.handled += 1
        if turn.timers or turn.cancels:
            self.keeper.timers_committed(turn.timers or [], turn.cancels or [])
        if turn.local is not None:
            turn.deliver_local()
        reply = envelope.reply
        if reply is not None and not reply.done():
            reply.set_result(result)
        if not self.uncommitted and self._idle_waiters and self.idle:
            self._wake_idle_waiters()

    async def _drain(self) -> None:
        """Wait until every turn handled so far has committed (or its chain has failed)."""
        if self.uncommitted:
            # Not `await`: a cancellation must not cancel the commit's future.
            await asyncio.wait([self.uncommitted[-1].commit])

    def _rewind_if_broken(self) -> JournalError | None:
        """If a commit of this incarnation failed, put the turns not committed back to be
        handled again, first, from the last committed state, their claims to be counted again
        (S7), and return the commit's error."""
        chain = self.chain
        if chain is None or chain.error is None or not self.uncommitted:
            return None  # nothing failed, or its turns are back already
        again = [turn.envelope for turn in self.uncommitted]
        if self.current is not None:
            again.append(self.current)
        self.uncommitted.clear()
        head = self.mailbox.peek()
        for envelope in [*again, *([head] if head is not None else [])]:
            envelope.claimed = False
        self.current = again[0] if again else None
        self.mailbox.push_front(again[1:])
        return chain.error

    def _drop_cancelled(self, envelope: Envelope) -> None:
        """Leave a message cancelled from outside unhandled: the journal has it as cancelled
        already; an asker hears `MessageCancelled`."""
        message_id = envelope.id
        assert message_id is not None
        by = self.cancelled.pop(message_id)
        self.current = None
        envelope.claimed = False
        self.tell_cancelled(envelope, by)
        logger.info(
            "actor %s: message %s (%s) was cancelled by %s; not handled",
            self.name,
            message_id,
            type(envelope.message).__name__,
            by,
        )

    @property
    def ahead(self) -> Iterable[Envelope]:
        return (turn.envelope for turn in self.uncommitted)

    @property
    def idle(self) -> bool:
        return not self.uncommitted and super().idle

    async def _dead_letter_crashed(self, envelope: Envelope) -> None:
        assert envelope.id is not None
        reason = (
            f"{envelope.attempts} attempt(s) counted and none finished: the process stopped"
            " during them (a crash or a kill), or they failed"
        )
        error = ProcessDied(reason)
        await self.writer.failed(
            Failed(envelope.id, envelope.attempts, f"ProcessDied: {reason}", None, True)
        )
        self.current = None
        self._dead_letter(envelope, error, log=True)

    # -- passivation (J5) ----------------------------------------------------------------------

    async def _idle_for(self, seconds: float) -> bool:
        """Wait for a message; True if none came for `seconds` and the actor is unloading."""
        mailbox = self.mailbox
        with anyio.move_on_after(seconds):
            await mailbox.wait()
            return False
        if (
            len(mailbox)
            or mailbox.reserved
            or self.watchers
            or self.uncommitted
            or self.phase is not RUNNING
        ):
            return False  # a send or a commit is on its way (or someone watches it): stay
        # From here on deliveries are held for the next incarnation's restore (J5).
        self.enter(PASSIVATING)
        self.held = []
        self._passivated = anyio.Event()
        return True

    @property
    def unloading(self) -> bool:
        return self.phase in (PASSIVATING, PASSIVATED)

    def passivated(self) -> None:
        """Its supervisor let it go: out of memory until its next message (J5)."""
        super().passivated()
        self.committed_state = None  # read again from the journal when it comes back
        self.keeper.passivated(self)
        if self._passivated is not None:
            self._passivated.set()
        if self.held:
            self._come_back()

    async def wait_passivated(self) -> None:
        """Wait until an unloading incarnation has ended and its supervisor let it go."""
        if self._passivated is not None:
            await self._passivated.wait()
