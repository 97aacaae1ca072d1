"""An ask to a durable actor that another node owns (C4, with A3's semantics).

The reply travels through the journal, the only thing nodes share (C5):

- **The asking node** registers the ask in the journal (`AskChannel.ask_out`, expiring with
  the ask's timeout), then appends the message (committed by its writer, J2, with a notice
  for the owner), under an id of its own kind (`ASK_PREFIX`), and waits. It learns of answers
  when the nodes are notified (``NOTIFY`` after the owner's commit) and, as the fallback, by
  looking every `POLL_SECONDS` while any ask waits.
- **The owner** handles the message like any other. A turn whose message is a remote ask
  commits its reply with the done-mark (`Done.answer`, J3: the reply exists iff the turn
  committed), encoded with msgpack and tagged with the reply's type (`reply_of`). A failed
  attempt that its supervisor retries is not an answer; a dead letter is: the asker gets the
  failure. If the actor moves to another node while the ask waits (failover), the new owner
  handles the pending message and commits the reply the same way.
- **The answer** is decoded by the asking node with a typed decoder (M3) for the type the
  handler declares it returns (its return annotation): a reply of another type raises
  `UnexpectedReply`. A handler without a return annotation has its reply decoded by its tag
  when the tag names a `Message` type, else as plain msgpack data (dicts, lists, numbers).
  The handler's failure raises `ActorFailed` whose ``__cause__`` is a `RemoteFailure` naming
  the actor and the exception's type and message (the exception object itself cannot cross
  processes). No answer in time raises `AskTimeout`, as A3 says.

What is left in the journal: the asker deletes an answer with its ask once it has read it, and
its ask (with any reply that came) when it stops waiting (a timeout, a cancellation, its
system stopping). The rows of an asker that died expire with their timeout and are deleted by
the next ask of any node, by any asking node's next look, and by `compact` (`_pg_asks`).
"""

from __future__ import annotations

import asyncio
import logging
import typing
from collections.abc import Callable, Coroutine
from typing import Any, Final, final

import anyio
import msgspec

from .._errors import (
    ActorFailed,
    ActorflowError,
    ActorStopped,
    JournalError,
    MessageCancelled,
    RemoteFailure,
    UnexpectedReply,
)
from .._handlers import handlers_of
from .._message import message_type as message_of_tag
from ..journal import Answer, AskChannel, MessageRecord, Reply
from ._records import type_tag
from ._writer import Writer

__all__ = ["ASK_PREFIX", "POLL_SECONDS", "Asks", "is_remote_ask"]

logger = logging.getLogger("actorflow")

ASK_PREFIX: Final = "ask-"
"""The start of the id of a message asked across nodes: fresh ids are hex digits, derived
ones hex digits and a dot, so the owner knows a remote ask by its id alone (and the journal
writes a reply only for an ask registered under that id)."""

POLL_SECONDS: Final = 0.5
"""How often a node with asks waiting looks for answers when no notification woke it."""

_DEFAULT_TIMEOUT: Final = 5.0  # A3's, for an ask whose deadline cannot be found


def is_remote_ask(message_id: str | None) -> bool:
    """Whether `message_id` names a message asked across nodes (C4)."""
    return message_id is not None and message_id.startswith(ASK_PREFIX)


@final
class _Waiting:
    """One ask waiting for its answer: its future and how to read the reply."""

    __slots__ = ("actor", "future", "message_type", "reply_type")

    def __init__(
        self, future: asyncio.Future[Any], actor: str, message_type: type, reply_type: Any
    ) -> None:
        self.future = future
        self.actor = actor
        self.message_type = message_type
        self.reply_type = reply_type

    def settle(self, answer: Answer) -> None:
        """Resolve the future with the answer's reply, or fail it with its end."""
        future = self.future
        if future.done():
            return
        try:
            result = self._read(answer)
        except ActorflowError as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)

    def _read(self, answer: Answer) -> Any:
        asked = self.message_type.__name__
        if answer.reply is not None:
            return self._decode(answer.reply)
        if answer.status == "dead":
            failure = RemoteFailure.of(self.actor, answer.error, answer.traceback)
            error = ActorFailed(
                f"{self.actor} failed handling {asked} on another node: {failure}",
                actor=self.actor,
            )
            error.__cause__ = failure
            raise error
        if answer.status == "cancelled":
            raise MessageCancelled(
                f"message {answer.message_id} to {self.actor} was cancelled by"
                f" {answer.cancelled_by or 'someone'} before it was handled",
                actor=self.actor,
                message_id=answer.message_id,
            )
        raise ActorflowError(
            f"{self.actor} handled {asked} on another node, but no reply was recorded with it"
        )

    def _decode(self, reply: Reply) -> Any:
        asked = self.message_type.__name__
        if reply.body is None:
            raise UnexpectedReply(
                f"{self.actor} replied {reply.type} to {asked}, which cannot travel between"
                f" nodes: {reply.error}"
            )
        target = self.reply_type
        if target is Any:
            target = message_of_tag(reply.type) or Any
        elif (
            isinstance(target, type)
            and issubclass(target, msgspec.Struct)
            and reply.type != type_tag(target)
        ):
            raise UnexpectedReply(
                f"{self.actor} replied {reply.type} to {asked}, expected"
                f" {type_tag(target)} (its handler's return type)"
            )
        try:
            return _decoder(target).decode(reply.body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise UnexpectedReply(
                f"{self.actor} replied {reply.type} to {asked}, which does not decode as"
                f" {_name(target)} (its handler's return type): {exc}"
            ) from exc


class Asks:
    """The asks this node has sent to other nodes' actors and waits on (internal)."""

    def __init__(
        self,
        channel: AskChannel,
        writer: Writer,
        watch: Callable[[Callable[[], None]], Callable[[], None]],
        background: Callable[[Callable[[None], Coroutine[Any, Any, None]], None], None],
    ) -> None:
        self.channel = channel
        self.writer = writer
        self._watch = watch  # the backend's `watch_notices`: the owners' NOTIFY wakes us
        self._background = background
        self._waiting: dict[str, _Waiting] = {}
        self._forgotten: list[str] = []  # asks given up on: to delete from the journal
        self._woken = anyio.Event()
        self._looking = False
        self._unwatch: Callable[[], None] | None = None
        self._closed = False

    async def ask(
        self,
        record: MessageRecord,
        message_type: type,
        actor_class: type[Any],
        reply: asyncio.Future[Any],
        timeout: float | None,
    ) -> None:
        """Register the ask of `record` (its id made with `ASK_PREFIX`) to expire in `timeout`
        seconds, append the message, and have its answer settle `reply` when it comes.
        Returns once the message is committed (J2); raises as the append does, the ask then
        forgotten."""
        if self._closed:
            raise ActorStopped(
                f"this system is stopping: no ask to {record.recipient}", actor=record.recipient
            )
        message_id = record.id
        await self.channel.ask_out(message_id, _DEFAULT_TIMEOUT if timeout is None else timeout)
        self._waiting[message_id] = _Waiting(
            reply, record.recipient, message_type, reply_type_of(actor_class, message_type)
        )
        reply.add_done_callback(lambda _: self._done(message_id))
        self._start()
        try:
            await self.writer.append([record])
        except BaseException:
            self._done(message_id)
            raise

    def _done(self, message_id: str) -> None:
        """The ask's future is done: if not by its answer, its rows go from the journal."""
        if self._waiting.pop(message_id, None) is not None:
            self._forgotten.append(message_id)
            self._start()

    def wake(self) -> None:
        """The owners may have committed answers (a notification)."""
        self._woken.set()

    def _start(self) -> None:
        if self._unwatch is None and not self._closed:
            self._unwatch = self._watch(self.wake)
        if not self._looking and not self._closed:
            self._looking = True
            self._background(self._look, None)

    async def _look(self, _: None) -> None:
        """Take answers when woken and every `POLL_SECONDS`, while any ask waits."""
        try:
            while (self._waiting or self._forgotten) and not self._closed:
                await self._forget()
                if self._waiting:
                    try:
                        answers = await self.channel.answers(list(self._waiting))
                    except JournalError as exc:
                        logger.warning("cannot read answers to asks, will try again: %s", exc)
                        answers = []
                    for answer in answers:
                        waiting = self._waiting.pop(answer.message_id, None)
                        if waiting is not None:
                            waiting.settle(answer)
                if not self._waiting and not self._forgotten:
                    break
                with anyio.move_on_after(POLL_SECONDS):
                    await self._woken.wait()
                self._woken = anyio.Event()
        finally:
            self._looking = False

    async def _forget(self) -> None:
        forgotten, self._forgotten = self._forgotten, []
        if forgotten:
            try:
                await self.channel.forget_asks(forgotten)
            except JournalError as exc:  # they expire with their timeout anyway
                logger.warning("cannot delete %d ask(s) from the journal: %s", len(forgotten), exc)

    async def close(self) -> None:
        """The system stops: every waiting asker hears `ActorStopped` (S9); their asks are
        deleted from the journal (or expire)."""
        self._closed = True
        waiting_now, self._waiting = self._waiting, {}
        self._forgotten.extend(waiting_now)
        for waiting in waiting_now.values():
            if not waiting.future.done():
                waiting.future.set_exception(
                    ActorStopped(
                        f"the system stopped while asking {waiting.actor} on another node",
                        actor=waiting.actor,
                    )
                )
        await self._forget()
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None


_reply_types: dict[tuple[type, type], Any] = {}
_decoders: dict[Any, msgspec.msgpack.Decoder[Any]] = {}


def reply_type_of(cls: type[Any], message_type: type) -> Any:
    """The type the handler of `message_type` on `cls` declares it returns (Any if none)."""
    key = (cls, message_type)
    found = _reply_types.get(key)
    if found is None:
        found = Any
        handler = handlers_of(cls).get(message_type)
        if handler is not None:
            try:
                hints = typing.get_type_hints(getattr(cls, handler.name))
            except (NameError, TypeError):
                hints = {}
            hint = hints.get("return", Any)
            found = type(None) if hint is None else hint
            try:
                _decoder(found)
            except TypeError:  # not a type msgspec decodes: read it untyped
                found = Any
        _reply_types[key] = found
    return found


def _decoder(target: Any) -> msgspec.msgpack.Decoder[Any]:
    decoder = _decoders.get(target)
    if decoder is None:
        decoder = _decoders[target] = msgspec.msgpack.Decoder(target)
    return decoder


def _name(target: Any) -> str:
    return target.__name__ if isinstance(target, type) else str(target)
