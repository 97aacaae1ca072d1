"""R2: what a durable turn records for replays, and ids that a re-run makes again."""

from __future__ import annotations

import hashlib

import msgspec
import pytest

import actorflow as af
from actorflow import replay, testing
from actorflow._ids import child_message_id, new_message_id
from actorflow.journal import MemoryJournal

pytestmark = pytest.mark.anyio


class Ask(af.Message, tag="r2.Ask"):
    question: str
    fail_first: bool = False


class Note(af.Message, tag="r2.Note"):
    text: str


class Notes(af.State):
    seen: list[str] = []
    handled: list[str] = []  # the ids of the messages handled, to find them in the journal


class Asker(af.Actor[Notes], kind="r2.Asker"):
    async def on_ask(self, msg: Ask) -> str:
        answer = await self.ctx.step("llm", _answer, msg.question)
        tool = await self.ctx.step("tool", _answer, "tool")
        again = await self.ctx.step("llm", _answer, msg.question + "?")
        self.state.seen.append(answer)
        self.state.handled.append(self.ctx.message_id or "")
        notes = self.ctx.system.lookup("r2-notes")
        await notes.tell(Note(answer))
        await notes.tell(Note(tool))
        await self.ctx.schedule(3600, Note("later"), to=notes)
        await notes.tell(Note(again))
        if msg.fail_first and self.ctx.attempt == 1:
            raise RuntimeError("first attempt fails after sending")
        return answer


class Noter(af.Actor[Notes], kind="r2.Noter"):
    def on_note(self, msg: Note) -> None:
        self.state.seen.append(msg.text)


async def _answer(question: str) -> str:
    return f"answer to {question}"


def test_r2_child_ids_derive_from_cause_and_position_and_cannot_be_fresh_ids() -> None:
    assert child_message_id("m1", 1) == child_message_id("m1", 1)
    assert (
        len({child_message_id("m1", 1), child_message_id("m1", 2), child_message_id("m2", 1)}) == 3
    )
    fresh = new_message_id()
    assert set(fresh) <= set("0123456789abcdef")  # fresh ids are hex only
    assert "." in child_message_id(fresh, 1)  # derived ones are marked
    # Fixed length however deep the chain of causes goes.
    deep = "root"
    for position in range(50):
        deep = child_message_id(deep, 1 + position % 9)
    assert len(deep) == len(child_message_id("root", 1))


@pytest.mark.parametrize("fail_first", [False, True])
async def test_r2_a_turn_records_states_reply_steps_and_derived_child_ids(fail_first: bool) -> None:
    journal = MemoryJournal()
    async with af.ActorSystem(journal=journal) as system:
        await system.spawn(Noter, name="r2-notes")
        asker = await system.spawn(Asker, name="r2-asker")
        reply = await asker.ask(Ask("why", fail_first=fail_first), expect=str)
        assert reply == "answer to why"
        await testing.wait_idle(system)
    assert await journal.dead_letters() == []
    record = await journal.actor("r2-asker")
    assert record is not None
    assert record.state is not None
    (ask_id,) = msgspec.msgpack.decode(record.state, type=Notes).handled
    conversation = await journal.conversation(ask_id)
    children = [m for m in conversation if m.cause == ask_id]
    # Same ids whether the turn ran once or twice (the failed attempt's sends never left).
    assert [m.id for m in children] == [
        child_message_id(ask_id, 1),
        child_message_id(ask_id, 2),
        child_message_id(ask_id, 4),
    ]
    (timer,) = await journal.timers()
    assert timer.id == child_message_id(ask_id, 3)
    turns = {t.message_id: t for t in await journal.turns(ask_id)}
    turn = turns[ask_id]
    decode = msgspec.msgpack.Decoder(Notes).decode
    assert decode(turn.before or b"").seen == []
    assert decode(turn.after or b"") == Notes(["answer to why"], [ask_id])
    assert msgspec.msgpack.decode(turn.reply or b"") == "answer to why"
    assert [(st.step, st.position) for st in turn.steps] == [("llm", 1), ("tool", 2), ("llm#2", 3)]
    digest = hashlib.blake2b(msgspec.msgpack.encode((("why",), {})), digest_size=16).digest()
    assert turn.steps[0].args == digest
    # The notes actor's turns: each starts from the state the one before it left.
    note_turns = [turns[m.id] for m in children if m.recipient == "r2-notes"]
    states = [(decode(t.before or b"").seen, decode(t.after or b"").seen) for t in note_turns]
    assert states == [
        ([], ["answer to why"]),
        (["answer to why"], ["answer to why", "answer to tool"]),
        (
            ["answer to why", "answer to tool"],
            ["answer to why", "answer to tool", "answer to why?"],
        ),
    ]
    assert all(t.reply is None for t in note_turns)  # told, not asked


async def test_r2_a_system_told_not_to_record_turns_keeps_none_and_replays_say_so() -> None:
    journal = MemoryJournal()
    async with af.ActorSystem(journal=journal, record_turns=False) as system:
        await system.spawn(Noter, name="r2-notes")
        notes = system.lookup("r2-notes")
        await notes.tell(Note("unrecorded"), id="unrecorded-1")
        await testing.wait_idle(system)
    await journal.open()
    try:
        (turn,) = await journal.turns("unrecorded-1")
        assert (turn.recorded, turn.before, turn.after) == (False, None, None)
        with pytest.raises(af.ReplayError, match="handled without recording its turn"):
            await replay.replay(journal, "unrecorded-1")
    finally:
        await journal.close()
