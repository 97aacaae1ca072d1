"""The group-commit writer: one task drains whatever is queued and commits it in one go (J2).

Batches grow with load by themselves: while one commit is on its way, new work queues up and
goes into the next one, so no timer is needed at low load and a commit (~one thread hop plus
an fsync here) is paid per batch, not per message. After a commit the writer delivers the
committed messages to their mailboxes in journal order, then wakes whoever waited for it.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, final

import anyio
import tenacity

from .._errors import JournalError, JournalFull, JournalLocked, OwnershipLost
from ..journal import (
    ActorRecord,
    Batch,
    CommitNotFollowed,
    Done,
    Failed,
    JournalBackend,
    MessageRecord,
    PipelinedWrites,
    StepRecord,
    TimerRecord,
    WritesNow,
)

__all__ = ["Chain", "Deliver", "Delivery", "JournalStatistics", "Writer"]

logger = logging.getLogger("actorflow")

T = TypeVar("T")

_get_running_loop = asyncio.get_running_loop

Delivery = Callable[[int | None], None]
"""Called after the commit for one appended message with its sequence number (None when the
append was a duplicate id, a no-op): puts the message in its recipient's mailbox."""

Deliver = Callable[[Any, int | None], None]
"""A `Delivery` taking what to deliver as its first argument: one bound method per recipient
serves all of its messages, where a `Delivery` is an object made per message."""


@final
@dataclass(frozen=True, slots=True)
class JournalStatistics:
    """A snapshot of the journal writer's counters (O2)."""

    commits: int
    operations: int
    largest_batch: int
    last_commit_seconds: float
    total_commit_seconds: float
    retries: int
    failures: int
    fenced_commits_refused: int = 0
    """Commits the database refused because this node no longer owned what they wrote (C2)."""


@final
class Chain:
    """One actor's turns, committed in order (J3): once one of them fails to commit, the later
    ones still queued are failed with the same error instead of written, so that no state
    that includes the failed turn's effects is ever committed without it."""

    __slots__ = ("error", "wake")

    def __init__(self, wake: Callable[[], None]) -> None:
        self.error: JournalError | None = None
        self.wake = wake  # called once it fails: the actor must notice at once

    def fail(self, error: JournalError) -> None:
        if self.error is None:
            self.error = error
            self.wake()


class _Op(abc.ABC):
    """Some journal work and the future of whoever waits for its commit."""

    __slots__ = ("chain", "future")

    def __init__(self) -> None:
        self.future: asyncio.Future[Any] = _get_running_loop().create_future()
        self.chain: Chain | None = None

    @abc.abstractmethod
    def add_to(self, batch: Batch) -> None:
        """Put this operation's writes into `batch`."""

    def complete(self, seqs: list[int | None], start: int) -> int:
        """Resolve after the commit; returns the index of the next op's first sequence number."""
        if not self.future.done():
            self.future.set_result(None)
        return start

    def fail(self, error: JournalError) -> None:
        """Not committed. A chained op's future resolves all the same, its chain holding the
        error (the actor that chained it looks there); any other's raises it."""
        if self.chain is not None:
            self.chain.fail(error)  # later turns of the chain are not written (J3)
            if not self.future.done():
                self.future.set_result(None)
        elif not self.future.done():
            self.future.set_exception(error)


def _deliver(deliveries: Sequence[Delivery], seqs: list[int | None]) -> None:
    for deliver, seq in zip(deliveries, seqs, strict=True):
        try:
            deliver(seq)
        except Exception:  # a delivery must never stop the writer; the message is committed
            logger.exception("delivering a committed message failed; it stays pending")


class _Append(_Op):
    __slots__ = ("deliveries", "records")

    def __init__(self, records: Sequence[MessageRecord], deliveries: Sequence[Delivery]) -> None:
        super().__init__()
        self.records, self.deliveries = records, deliveries

    def add_to(self, batch: Batch) -> None:
        batch.appends.extend(self.records)

    def complete(self, seqs: list[int | None], start: int) -> int:
        end = start + len(self.records)
        mine = seqs[start:end]
        if self.deliveries:
            _deliver(self.deliveries, mine)
        if not self.future.done():
            self.future.set_result(mine)
        return end


class _One(_Op):
    """One message appended, with its delivery: a tell's, without the lists of an `_Append`.

    `undo(item)` runs instead of the delivery if the commit fails: the op, not its sender,
    settles what the sender set aside for the message (a mailbox place), since the commit goes
    on even when the sender stops waiting for it.
    """

    __slots__ = ("deliver", "item", "record", "undo")

    def __init__(
        self,
        record: MessageRecord,
        deliver: Deliver,
        item: Any,
        undo: Callable[[Any], None] | None,
    ) -> None:
        # `_Op.__init__`'s two fields set here: one call fewer per message (a tell's path).
        self.future = _get_running_loop().create_future()
        self.chain = None
        self.record, self.deliver, self.item, self.undo = record, deliver, item, undo

    def add_to(self, batch: Batch) -> None:
        batch.appends.append(self.record)

    def complete(self, seqs: list[int | None], start: int) -> int:
        try:
            self.deliver(self.item, seqs[start])
        except Exception:  # a delivery must never stop the writer; the message is committed
            logger.exception("delivering a committed message failed; it stays pending")
        if not self.future.done():
            self.future.set_result(None)
        return start + 1

    def fail(self, error: JournalError) -> None:
        super().fail(error)
        if self.undo is not None:
            try:
                self.undo(self.item)
            except Exception:  # never stop the writer
                logger.exception("undoing an uncommitted message's delivery failed")


class _Processed(_Append):
    """A handled message: its outbox is appended (and delivered) like an `_Append`, its
    timers set and cancelled with it."""

    __slots__ = ("after", "cancels", "claim", "done", "handled", "timers")

    def __init__(
        self,
        done: Done,
        outbox: Sequence[MessageRecord],
        deliveries: Sequence[Delivery],
        claim: str | None,
        timers: Sequence[TimerRecord],
        cancels: Sequence[str],
        chain: Chain | None,
        after: Callable[[Any], None] | None,
        handled: Any,
    ) -> None:
        # The fields of `_Append.__init__` and `_Op.__init__` set here: two calls fewer per
        # handled message.
        self.future = _get_running_loop().create_future()
        self.records, self.deliveries = outbox, deliveries
        self.done, self.claim, self.timers, self.cancels = done, claim, timers, cancels
        self.chain, self.after, self.handled = chain, after, handled

    def complete(self, seqs: list[int | None], start: int) -> int:
        end = start + len(self.records)
        if end > start:
            _deliver(self.deliveries, seqs[start:end])
        if not self.future.done():
            self.future.set_result(None)
        if self.after is not None:
            try:
                self.after(self.handled)
            except Exception:  # never stop the writer; the turn is committed
                logger.exception("finishing a committed turn failed")
        return end

    def add_to(self, batch: Batch) -> None:
        if self.records:  # most turns send nothing
            batch.appends.extend(self.records)
        batch.done.append(self.done)
        if self.claim is not None:
            batch.claims.append(self.claim)
        if self.timers:
            batch.timers.extend(self.timers)
        if self.cancels:
            batch.cancels.extend(self.cancels)


class _Fire(_Append):
    """A timer that is due: its message is appended and the timer removed, in one commit."""

    __slots__ = ("timer_id",)

    def __init__(self, timer: TimerRecord, delivery: Delivery) -> None:
        super().__init__([timer.message], [delivery])
        self.timer_id = timer.id

    def add_to(self, batch: Batch) -> None:
        super().add_to(batch)
        batch.cancels.append(self.timer_id)


class _Read(_Op):
    """A journal read made between two commits (J5, J11): every message committed before it
    has been delivered, and nothing commits until it has returned."""

    __slots__ = ("read",)

    def __init__(self, read: Callable[[], Awaitable[Any]]) -> None:
        super().__init__()
        self.read = read

    def add_to(self, batch: Batch) -> None:
        pass  # it writes nothing: it runs after the batch it rides with

    def complete(self, seqs: list[int | None], start: int) -> int:
        return start  # resolved once the read returns, after the batch's deliveries


class _Simple(_Op):
    __slots__ = ("batch",)

    def __init__(self, batch: Batch) -> None:
        super().__init__()
        self.batch = batch

    def add_to(self, batch: Batch) -> None:
        mine = self.batch
        batch.actors.extend(mine.actors)
        batch.claims.extend(mine.claims)
        batch.failed.extend(mine.failed)
        batch.requeues.extend(mine.requeues)
        batch.steps.extend(mine.steps)
        batch.timers.extend(mine.timers)
        batch.cancels.extend(mine.cancels)


# Another process holding the write lock past SQLite's own busy timeout is worth a few more
# tries; a corrupt file is not (J9).
_RETRY: dict[str, Any] = {
    "retry": tenacity.retry_if_exception_type(JournalLocked),
    "stop": tenacity.stop_after_attempt(4),
    "wait": tenacity.wait_exponential_jitter(multiplier=0.05, max=1.0, jitter=0.05),
    "reraise": True,
}
# A full disk, for ~2.5 s (50 ms doubling to 1 s between tries): the backend gives back the space
# its WAL held between tries, and a short episode then reaches no caller and no supervisor (J9).
_RETRY_FULL: dict[str, Any] = {
    "retry": tenacity.retry_if_exception_type(JournalFull),
    "stop": tenacity.stop_after_attempt(7),
    "wait": tenacity.wait_exponential_jitter(multiplier=0.05, max=1.0, jitter=0.05),
    "reraise": True,
}


@final
class _Sent:
    """A batch on its way: its operations, the reads among them (run once it has landed),
    its write (None when it writes nothing), and when it was made (`since`)."""

    __slots__ = ("ops", "reads", "since", "write")

    def __init__(
        self, ops: list[_Op], reads: list[_Read], write: Awaitable[list[int | None]] | None
    ) -> None:
        self.ops, self.reads, self.write = ops, reads, write
        self.since = time.perf_counter()

    @property
    def landed(self) -> bool:
        """Whether its write has ended (landed or failed): too late to follow it."""
        write = self.write
        return write is None or (isinstance(write, asyncio.Future) and write.done())


_MAX_BATCH = 512  # operations per commit; measured: larger batches stop overlapping with work


@final
class Writer:
    """Commits journal work in groups; every method returns once its work is committed."""

    def __init__(self, backend: JournalBackend) -> None:
        self.backend = backend
        self._queue: list[_Op] = []
        # Set while the writer task waits for work: the first op queued wakes it, the ones
        # after it (queued before it runs) cost nothing more.
        self._idle: asyncio.Future[None] | None = None
        self._closing = False
        self._commits = 0
        self._operations = 0
        self._largest = 0
        self._last_seconds = 0.0
        self._total_seconds = 0.0
        self._retries = 0
        self._failures = 0
        self._fenced = 0
        self._followable = True  # the last commit landed: the next one may follow it
        # The writer task waits for work, nothing queued or on its way (`_take`).
        self._resting = False
        self._write_now = backend.write_now if isinstance(backend, WritesNow) else None

    # -- what callers ask for --------------------------------------------------------------------

    async def append(
        self, records: list[MessageRecord], deliveries: list[Delivery] | None = None
    ) -> list[int | None]:
        """Append messages (J2); returns their sequence numbers (None: a duplicate id).

        `deliveries` (one per record) run right after the commit, in journal order.
        """
        op = _Append(records, deliveries or [])
        self._submit(op)
        result: list[int | None] = await op.future
        return result

    def tell(
        self,
        record: MessageRecord,
        deliver: Deliver,
        item: Any,
        undo: Callable[[Any], None] | None = None,
    ) -> asyncio.Future[None]:
        """Append one message (J2) and call ``deliver(item, seq)`` right after the commit, or
        ``undo(item)`` if it fails; returns the future of that commit, for the caller to await.

        Both run whether or not the caller still waits: a caller cancelled meanwhile leaves
        the rest to them.
        """
        op = _One(record, deliver, item, undo)
        self._submit(op)
        return op.future

    # The methods below return the future of their commit, for the caller to await: no
    # coroutine per call on a turn's path. They raise `JournalError` at once if the writer has
    # stopped.

    def processed(
        self,
        done: Done,
        outbox: Sequence[MessageRecord],
        deliveries: Sequence[Delivery],
        claim: str | None,
        timers: Sequence[TimerRecord] = (),
        cancels: Sequence[str] = (),
        *,
        chain: Chain | None = None,
        after: Callable[[Any], None] | None = None,
        handled: Any = None,
    ) -> asyncio.Future[None]:
        """Commit a handled message with its state, outbox and timers; claim the next (J3).

        ``after(handled)`` runs right after the commit, in the writer, before anything later
        commits; with a `chain`, the commit is refused once an earlier one of the chain failed.
        """
        op = _Processed(done, outbox, deliveries, claim, timers, cancels, chain, after, handled)
        self._submit(op)
        return op.future

    def claim(self, message_id: str) -> asyncio.Future[None]:
        """Count an attempt at a message before it starts (S7: survives a process crash)."""
        return self._run(_Simple(Batch(claims=[message_id])))

    def failed(self, failed: Failed) -> asyncio.Future[None]:
        """Record a failed attempt, or a dead letter."""
        return self._run(_Simple(Batch(failed=[failed])))

    def failed_many(self, failed: list[Failed]) -> asyncio.Future[None]:
        """Record several failed attempts or dead letters in one commit."""
        return self._run(_Simple(Batch(failed=failed)))

    def register(self, actor: ActorRecord) -> asyncio.Future[None]:
        """Record a durable actor's kind and constructor arguments."""
        return self._run(_Simple(Batch(actors=[actor])))

    def requeue(self, message_id: str) -> asyncio.Future[None]:
        """Make a dead letter pending again."""
        return self._run(_Simple(Batch(requeues=[message_id])))

    def step(self, step: StepRecord) -> asyncio.Future[None]:
        """Record a step's result (J4): from its commit on, a re-run returns it instead.

        Its caller waits for nothing else, so when nothing else is queued or on its way, and
        the backend can (`WritesNow`), the commit is made here, in the caller's task: what
        was committed before it has landed, and nothing can land between.
        """
        op = _Simple(Batch(steps=[step]))
        if self._resting and not self._queue and self._commit_here(op):
            return op.future
        return self._run(op)

    def schedule(self, timer: TimerRecord) -> asyncio.Future[None]:
        """Store a timer (J6)."""
        return self._run(_Simple(Batch(timers=[timer])))

    def cancel(self, timer_id: str) -> asyncio.Future[None]:
        """Remove a timer that has not fired."""
        return self._run(_Simple(Batch(cancels=[timer_id])))

    def fire(self, timer: TimerRecord, delivery: Delivery) -> asyncio.Future[None]:
        """Append a due timer's message and remove the timer, in one commit (J6: once)."""
        return self._run(_Fire(timer, delivery))

    async def read(self, read: Callable[[], Awaitable[T]]) -> T:
        """Run `read` (a journal read) after the commits queued before it, and before any other.

        Every message committed before the read has been delivered by the time it runs, and no
        commit lands until it returns: what it reads as pending is pending, and not also on its
        way to a mailbox (J5). Errors come back as `JournalError`.
        """
        op = _Read(read)
        self._submit(op)
        result: T = await op.future
        return result

    async def take_notices(self, taken: Callable[[list[MessageRecord]], None]) -> None:
        """Take in messages other processes appended (J11); `taken` gets them in the writer.

        `taken` runs before any commit that follows, so a message it is given has not been
        handled since the journal said it was pending.
        """

        async def take() -> None:
            taken(await self.backend.take_notices())

        await self.read(take)

    def _commit_here(self, op: _Simple) -> bool:
        """Commit `op` now, with `WritesNow`; False if the backend cannot, or the commit
        failed (nothing written: the writer task makes it again, retrying as it does)."""
        write_now = self._write_now
        if write_now is None or self._closing:
            return False
        since = time.perf_counter()
        try:
            seqs = write_now(op.batch)
        except Exception:  # the writer task tries it again, and reports what it finds
            return False
        if seqs is None:
            return False
        self._count(1, since)
        op.complete(seqs, 0)
        return True

    def _run(self, op: _Op) -> asyncio.Future[None]:
        self._submit(op)
        future: asyncio.Future[None] = op.future
        return future

    def _submit(self, op: _Op) -> None:
        if self._closing:
            raise JournalError("the journal writer has stopped")
        self._queue.append(op)
        self._wake()

    def _wake(self) -> None:
        idle, self._idle = self._idle, None
        if idle is not None and not idle.done():
            idle.set_result(None)

    # -- the writer task ---------------------------------------------------------------------------

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Commit batches until `close` is called and everything queued is committed.

        With a backend whose commits can be on their way several at a time (`PipelinedWrites`),
        the next batches are sent while one commits, so that the server goes from one commit
        to the next without waiting for this process (J2): each commits only if the one before
        it did, and the operations of those that did not are queued again, first, in order.
        """
        task_status.started()
        backend = self.backend
        depth = backend.depth if isinstance(backend, PipelinedWrites) else 1
        ahead: deque[_Sent] = deque()  # sent while the batch before them commits, in order
        try:
            while True:
                if ahead:
                    sent = ahead.popleft()
                else:
                    ops = await self._take()
                    if ops is None:
                        return
                    sent = self._send(self._intact(ops), following=False, started=depth > 1)
                while len(ahead) < depth - 1 and self._followable:
                    last = ahead[-1] if ahead else sent
                    if last.reads:
                        break  # nothing commits before its reads have run
                    if not self._queue:
                        await self._work_or(sent)  # the next to settle: not kept waiting
                    if not self._queue or last.landed:
                        break
                    ahead.append(
                        self._send(self._intact(self._next()), following=True, started=True)
                    )
                if not await self._settle(sent):
                    # It was not written, so neither was what followed it: all go back, first.
                    back = list(sent.ops)
                    while ahead:
                        back.extend(await self._unwritten(ahead.popleft()))
                    self._queue[:0] = back
        finally:
            for cancelled in ahead:  # the writer was cancelled, as the commit before them was
                if isinstance(cancelled.write, asyncio.Future):
                    cancelled.write.cancel()

    async def _take(self) -> list[_Op] | None:
        """The next batch to commit, waiting for work; None once closed and all committed."""
        loop = asyncio.get_running_loop()
        while not self._queue:
            if self._closing:
                return None
            idle = self._idle = loop.create_future()
            self._resting = True
            try:
                await idle
            finally:
                self._idle = None
                self._resting = False
        return self._next()

    async def _work_or(self, sent: _Sent) -> None:
        """Wait until work is queued, or `sent` has landed (or failed), whichever comes first."""
        write = sent.write
        if not isinstance(write, asyncio.Future) or write.done():
            return
        idle = self._idle = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait((write, idle), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._idle = None

    def _next(self) -> list[_Op]:
        # A bounded batch: while it commits in the writer thread, the tasks woken by the
        # previous one run on the loop, so the two overlap instead of taking turns.
        ops, self._queue = self._queue[:_MAX_BATCH], self._queue[_MAX_BATCH:]
        return ops

    def _intact(self, ops: list[_Op]) -> list[_Op]:
        """`_unbroken(ops)`; only a failed commit fails a chain, so until one has, `ops`."""
        return _unbroken(ops) if self._failures else ops

    def close(self) -> None:
        """Stop taking work; the writer task ends once what is queued is committed."""
        self._closing = True
        self._wake()

    def _send(self, ops: list[_Op], *, following: bool, started: bool) -> _Sent:
        """Gather `ops` into one batch and its write: `following` the write sent before it
        (`PipelinedWrites`); `started` as a task at once (else when it is awaited)."""
        batch = Batch(actors=[], appends=[], claims=[], done=[], failed=[], requeues=[])
        for op in ops:
            op.add_to(batch)
        reads = [op for op in ops if type(op) is _Read]  # not `isinstance`: an ABC's is slow
        if not len(batch):
            return _Sent(ops, reads, None)
        write: Awaitable[list[int | None]] = self._write(batch, following=following)
        if started:
            write = asyncio.ensure_future(write)
        return _Sent(ops, reads, write)

    async def _settle(self, sent: _Sent) -> bool:
        """Wait for `sent` to commit and resolve its operations, then run its reads; False if
        it followed a commit that was not written, and so wrote nothing (for the caller to
        queue again)."""
        error = await self._land(sent)
        if isinstance(error, CommitNotFollowed):
            return False
        await self._reads_of(sent)
        return True

    async def _reads_of(self, sent: _Sent) -> None:
        """Run the reads of `sent`, which has landed (or failed)."""
        if len(sent.reads) == 1:
            await self._read(sent.reads[0])
        elif sent.reads:
            async with anyio.create_task_group() as tg:  # overlapped; no commit until all end
                for op in sent.reads:
                    tg.start_soon(self._read, op)

    async def _unwritten(self, sent: _Sent) -> list[_Op]:
        """`sent` followed a commit that was not written, so it was not written either: its
        operations, to queue again. A batch of reads alone goes back too: they are to run after
        what they followed has landed. (If the backend says a write landed all the same, it
        committed, and is resolved as such, its reads going back; failed, its operations have
        failed, its reads with them.)
        """
        if sent.write is None:
            return sent.ops
        error = await self._land(sent)
        if isinstance(error, CommitNotFollowed):
            return sent.ops
        if error is not None:
            return []
        logger.error("a commit that followed one not written landed all the same")
        return list(sent.reads)

    async def _land_now(self, ops: list[_Op]) -> JournalError | None:
        """`_land` of `ops`, made into one batch and written now, following nothing."""
        return await self._land(self._send(ops, following=False, started=False))

    async def _land(self, sent: _Sent) -> JournalError | None:
        """Wait for `sent` to commit and resolve it; or fail it, returning the error. A batch
        that followed one that was not written is neither: it returns `CommitNotFollowed` (the
        caller queues it again).

        A commit refused because this node no longer owns some of what it wrote (C2) is made
        again without what it lost (`_land_apart`): the other actors' turns are no fault of
        theirs.
        """
        ops, since = sent.ops, sent.since
        try:
            seqs = await sent.write if sent.write is not None else []
        except CommitNotFollowed as not_followed:
            self._followable = False
            return not_followed
        except Exception as raised:
            # A backend's own bug must still fail every waiter, never stop the writer.
            exc = _journal_error(raised)
            self._failures += 1
            self._followable = False
            if isinstance(exc, OwnershipLost):
                self._fenced += 1
                if len(ops) > 1:
                    logger.warning(
                        "journal commit of %d operation(s) refused (%s): committing apart what"
                        " this node still owns",
                        len(ops),
                        exc,
                    )
                    return await self._land_apart(ops, exc)
            logger.error("journal commit of %d operation(s) failed: %s", len(ops), exc)  # noqa: TRY400 (the typed error says it all; callers get it too)
            for op in ops:
                op.fail(exc)
            return exc
        self._followable = True
        self._count(len(ops), since)
        index = 0
        for op in ops:
            index = op.complete(seqs, index)
        return None

    def _count(self, operations: int, since: float) -> None:
        """A commit of `operations` operations, made since `since`, landed (`statistics`)."""
        seconds = time.perf_counter() - since
        self._commits += 1
        self._operations += operations
        self._largest = max(self._largest, operations)
        self._last_seconds = seconds
        self._total_seconds += seconds

    async def _land_apart(self, ops: list[_Op], refusal: OwnershipLost) -> JournalError | None:
        """Commit `ops`, refused with `refusal`, without what this node lost (C2).

        The refusal has made the backend look at what it owns: a handled message of an actor
        it no longer owns fails at once with `refusal`, and the rest is committed again
        together. Refused again (a claim, step or failure names its actor only by a message
        id), it is committed in two halves, in order, each split again if refused, until a
        refused operation is alone (it fails) or a half lands. The later turns of a failed
        turn's chain are not written (J3). An error other than a refusal fails what is left.
        Reads are not written: `_commit` runs them after all of it.
        """
        owns = self.backend.owns
        kept: list[_Op] = []
        dropped = False
        for op in ops:
            if isinstance(op, _Processed) and not owns(op.done.actor):
                op.fail(refusal)
                dropped = True
            elif not isinstance(op, _Read):
                kept.append(op)
        kept = _unbroken(kept)
        if dropped or len(kept) < 2:
            return await self._land_now(kept) if kept else None
        middle = len(kept) // 2
        first, second = kept[:middle], kept[middle:]
        error = await self._land_now(first)
        if error is not None and not isinstance(error, OwnershipLost):
            for op in _unbroken(second):
                op.fail(error)
            return error
        second = _unbroken(second)  # a chain that failed in `first` writes nothing more (J3)
        return await self._land_now(second) if second else None

    async def _read(self, op: _Read) -> None:
        # The writer task makes every commit, so none lands while it waits here.
        try:
            result = await op.read()
        except Exception as exc:  # never stop the writer; the reader gets a typed error
            logger.exception("a journal read between commits failed")
            if not op.future.done():
                op.future.set_exception(_journal_error(exc))
        else:
            if not op.future.done():
                op.future.set_result(result)

    async def _write(self, batch: Batch, *, following: bool = False) -> list[int | None]:
        backend = self.backend
        try:
            if following:
                assert isinstance(backend, PipelinedWrites)
                return await backend.write_following(batch)
            return await backend.write(batch)
        except (JournalLocked, JournalFull) as exc:
            if following:  # sent again once what it follows has landed, and retried then
                raise CommitNotFollowed(str(exc)) from exc
            # Only now build the retry loop: ~40 us per commit saved on the usual path.
            retry = _RETRY if isinstance(exc, JournalLocked) else _RETRY_FULL
            async for attempt in tenacity.AsyncRetrying(**retry):
                with attempt:
                    self._retries += 1
                    return await backend.write(batch)
            raise  # unreachable: the retry loop returns or re-raises

    def statistics(self) -> JournalStatistics:
        """Return a snapshot of commits, batch sizes and commit latency."""
        return JournalStatistics(
            commits=self._commits,
            operations=self._operations,
            largest_batch=self._largest,
            last_commit_seconds=self._last_seconds,
            total_commit_seconds=self._total_seconds,
            retries=self._retries,
            failures=self._failures,
            fenced_commits_refused=self._fenced,
        )


def _unbroken(ops: list[_Op]) -> list[_Op]:
    """`ops` without those of a chain that failed, which are failed with its error instead."""
    if all(op.chain is None or op.chain.error is None for op in ops):
        return ops
    kept = []
    for op in ops:
        error = None if op.chain is None else op.chain.error
        if error is None:
            kept.append(op)
        else:
            op.fail(error)
    return kept


def _journal_error(exc: Exception) -> JournalError:
    """`exc` as the typed error callers get: a backend's own bug becomes a `JournalError`."""
    if isinstance(exc, JournalError):
        return exc
    wrapped = JournalError(f"the journal backend failed: {type(exc).__name__}: {exc}")
    wrapped.__cause__ = exc
    return wrapped
