"""A recorded conversation, read from a journal backend (R2): what a replay runs against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from .._errors import ActorNotFound, ReplayError
from ..journal import (
    ActorRecord,
    JournalBackend,
    JournalReader,
    MessageRecord,
    TimerRecord,
    TurnRecord,
)

__all__ = ["Recording", "load_recording", "read_recording"]


class Recording(msgspec.Struct, gc=False):
    """One conversation as the journal holds it: its messages in seq order, the turns of those
    that were handled, the actors they went to, and its timers not fired yet."""

    conversation: str
    messages: list[MessageRecord]
    turns: dict[str, TurnRecord]
    actors: dict[str, ActorRecord]
    timers: list[TimerRecord] = []

    def final_states(self) -> dict[str, Any]:
        """Each actor's state after its last recorded turn here, as plain data (for scorers)."""
        found: dict[str, Any] = {}
        for m in self.messages:
            turn = self.turns.get(m.id)
            if turn is not None:
                found[m.recipient] = (
                    None if turn.after is None else msgspec.msgpack.decode(turn.after)
                )
        return found

    @property
    def root(self) -> MessageRecord:
        """The conversation's first message (the one from outside that started it)."""
        for m in self.messages:
            if m.id == self.conversation:
                return m
        return self.messages[0]


async def load_recording(backend: JournalBackend, conversation: str) -> Recording:
    """Read conversation `conversation` from `backend` (open); raise `ReplayError` when it is
    unknown, compacted, or was not recorded for replays."""
    messages = await backend.conversation(conversation)
    _check(conversation, messages)
    turns = await backend.turns(conversation)
    actors = {a.name: a for a in await backend.actors()}
    timers = [t for t in await backend.timers() if t.message.conversation == conversation]
    return _recording(conversation, messages, turns, actors, timers)


def read_recording(journal: Path | str, conversation: str) -> Recording:
    """Read conversation `conversation` from `journal` (a file's path or a ``postgresql://``
    URL), read-only."""
    with JournalReader.open(journal) as reader:
        messages = reader.conversation(conversation)
        _check(conversation, messages)
        turns = reader.turns(conversation)
        actors: dict[str, ActorRecord] = {}
        for name in dict.fromkeys(m.recipient for m in messages):
            try:
                actors[name] = reader.actor(name)
            except ActorNotFound:
                continue
        # Actors the conversation never reached may be sent to by changed code: known too.
        for record in reader.all_actors():
            actors.setdefault(record.name, record)
        timers = reader.timers_of(conversation)
    return _recording(conversation, messages, turns, actors, timers)


def _check(conversation: str, messages: list[MessageRecord]) -> None:
    if not messages:
        raise ReplayError(
            f"conversation {conversation!r} is not in the journal (unknown, or compacted: pin"
            " a conversation to keep it, `actorflow journal pin ID`)"
        )
    if all(m.id != conversation for m in messages):
        raise ReplayError(
            f"conversation {conversation!r} has lost its first message (compacted); pin"
            " a conversation to keep it whole: `actorflow journal pin ID`"
        )


def _recording(
    conversation: str,
    messages: list[MessageRecord],
    turns: list[TurnRecord],
    actors: dict[str, ActorRecord],
    timers: list[TimerRecord],
) -> Recording:
    unrecorded = [t.message_id for t in turns if not t.recorded]
    if unrecorded:
        raise ReplayError(
            f"conversation {conversation!r}: message {unrecorded[0]} was handled without"
            " recording its turn (its states are not in the journal), so it cannot be replayed"
        )
    return Recording(conversation, messages, {t.message_id: t for t in turns}, actors, timers)
