"""Conversations (J7): every journaled message carries its conversation and its cause."""

from __future__ import annotations

import pytest

import actorflow as af
from actorflow.journal import JournalBackend

from .support import Relay, Relayer

pytestmark = pytest.mark.anyio


async def test_j7_a_conversation_reads_back_as_a_tree_across_actors(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        a = await system.spawn(Relayer, name="a")
        await system.spawn(Relayer, name="b")
        await system.spawn(Relayer, name="c")
        await a.tell(Relay(["b", "c"], fan_out=2), id="start")
        await a.tell(Relay([]), id="other")
        await system.wait_idle()
        (root,) = await system.conversation("start")
        shape = [(depth, m.recipient, m.sender, m.cause) for depth, m in root.walk()]
        assert shape[0] == (0, "a", None, None)
        b1, b2 = root.children
        assert [(c.message.recipient, c.message.cause) for c in (b1, b2)] == [
            ("b", "start"),
            ("b", "start"),
        ]
        for b in (b1, b2):
            (c,) = b.children
            assert (c.message.recipient, c.message.sender, c.message.cause) == (
                "c",
                "b",
                b.message.id,
            )
        assert {m.conversation for _, m in root.walk()} == {"start"}
        assert len(root.walk()) == 5
        # Any message of the conversation names it; a message from outside starts its own.
        (again,) = await system.conversation(b1.children[0].message.id)
        assert again.message.id == "start"
        (other,) = await system.conversation("other")
        assert other.children == []
        assert await system.conversation("nothing-like-it") == []


async def test_j7_the_handler_sees_its_conversation(journal: JournalBackend) -> None:
    seen: list[str | None] = []

    class Watcher(af.Actor[None], kind="agents.Watcher"):
        async def on_relay(self, msg: Relay) -> None:
            seen.append(self.ctx.conversation)
            if msg.path:
                await self.ctx.ref.tell(Relay(msg.path[1:]))

    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Watcher, name="w")
        await ref.tell(Relay(["x", "y"]), id="conv-1")
        await system.wait_idle()
    assert seen == ["conv-1", "conv-1", "conv-1"]


async def test_j7_conversations_need_a_journal() -> None:
    async with af.ActorSystem() as system:
        with pytest.raises(af.ActorflowError, match="no journal"):
            await system.conversation("x")
