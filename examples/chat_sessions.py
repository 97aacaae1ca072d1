"""One actor per chat session: thousands of sessions, each unloaded from memory when idle.

Every session is a durable actor that remembers its conversation. Sessions idle for a moment
are passivated (J5): their state stays in the journal and the actor leaves memory, until the
session's next message brings it back, with its state, as if it had never left. So the journal
holds far more conversations than memory does.

    actorflow run examples.chat_sessions:main --journal chat.db
"""

from __future__ import annotations

import os
import sys

import anyio

import actorflow as af

SESSIONS = int(os.environ.get("CHAT_SESSIONS", "2000"))
ROUNDS = 3  # messages per session
IDLE = 0.2  # seconds idle before a session is unloaded


class Chat(af.Message, tag="chat.Chat"):
    text: str


class Transcript(af.State):
    turns: list[str] = []


async def llm(history: list[str], text: str) -> str:
    """A deterministic stand-in for a chat model that sees the conversation so far."""
    await anyio.sleep(0.001)
    began = f" (you began with {history[0]!r})" if history else ""
    return f"reply {len(history) // 2 + 1} to {text!r}{began}"


class Unloads:
    """Counts sessions leaving memory, so that main can wait until all of them have."""

    def __init__(self) -> None:
        self.count, self.wanted, self.reached = 0, 0, anyio.Event()

    def one_more(self) -> None:
        self.count += 1
        if self.count >= self.wanted:
            self.reached.set()

    async def wait_for(self, count: int) -> None:
        self.wanted, self.reached = count, anyio.Event()
        if self.count < count:
            await self.reached.wait()


UNLOADS = Unloads()


class Session(af.Actor[Transcript], kind="chat.Session"):
    async def on_chat(self, msg: Chat) -> str:
        reply = await self.ctx.step("llm", llm, self.state.turns, msg.text)
        self.state.turns += [msg.text, reply]
        return reply

    async def on_stop(self) -> None:  # runs as an idle session is unloaded
        UNLOADS.one_more()


async def session(system: af.ActorSystem, name: str) -> af.ActorRef[Session]:
    """The session's actor: running, brought back from the journal, or new."""
    return await system.spawn(Session, name=name, passivate_after=IDLE)


async def main(system: af.ActorSystem) -> None:
    limiter = anyio.CapacityLimiter(200)  # users typing at the same time
    most_in_memory = 0

    async def talk(i: int, turn: int) -> None:
        async with limiter:
            ref = await session(system, f"chat-{i}")
            await ref.ask(Chat(f"message {turn} from user {i}"))

    for turn in range(ROUNDS):
        async with anyio.create_task_group() as tg:
            for i in range(SESSIONS):
                tg.start_soon(talk, i, turn)
        most_in_memory = max(most_in_memory, len(system.actors()))
        await UNLOADS.wait_for(SESSIONS * (turn + 1))  # every session idle, and unloaded
    print(f"{SESSIONS} sessions, {SESSIONS * ROUNDS} messages; all unloaded now")
    print(f"(at most {most_in_memory} sessions were in memory at once)")
    ref = await session(system, "chat-7")
    print("chat-7:", await ref.ask(Chat("what did I say first?")))


if __name__ == "__main__":
    af.run(main, journal=sys.argv[1] if len(sys.argv) > 1 else "chat.db")
