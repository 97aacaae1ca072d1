"""Actors and messages shared by the agent-orchestration tests (tags are global: defined once)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import anyio
import msgspec
import tenacity

import actorflow as af
from actorflow.journal import Batch, JournalBackend, MessageRecord


class Ask(af.Message, tag="agents.Ask"):
    prompt: str
    fail_first: bool = False


class Reply(msgspec.Struct):
    text: str
    tokens: int


class Transcript(af.State):
    replies: list[str] = []


class Llm:
    """A deterministic fake LLM that counts its calls (and fails when told to)."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[str] = []
        self.failures = failures
        self.threads: set[int] = set()

    async def complete(self, prompt: str) -> Reply:
        self.calls.append(prompt)
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the LLM is overloaded")
        return Reply(f"re: {prompt}", len(prompt))

    def complete_blocking(self, prompt: str) -> str:
        self.calls.append(prompt)
        self.threads.add(threading.get_ident())
        return f"blocking re: {prompt}"


LLMS: dict[str, Llm] = {}


class Agent(af.Actor[Transcript], kind="agents.Agent"):
    """Two steps per message; fails after them on a first attempt when asked to."""

    def __init__(self, llm: str) -> None:
        self.llm = LLMS[llm]

    async def on_ask(self, msg: Ask) -> list[str]:
        first = await self.ctx.step("complete", self.llm.complete, msg.prompt)
        second = await self.ctx.step("complete", self.llm.complete, first.text)
        if msg.fail_first and self.ctx.attempt == 1:
            raise RuntimeError("the handler failed after its steps")
        self.state.replies += [first.text, second.text]
        return self.state.replies


class RetryingAgent(af.Actor[None], kind="agents.RetryingAgent"):
    def __init__(self, llm: str) -> None:
        self.llm = LLMS[llm]

    async def on_ask(self, msg: Ask) -> str:
        reply = await self.ctx.step(
            "complete",
            self.llm.complete,
            msg.prompt,
            retry=tenacity.AsyncRetrying(
                stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_none(), reraise=True
            ),
        )
        return reply.text


class BlockingAgent(af.Actor[None], kind="agents.BlockingAgent"):
    def __init__(self, llm: str) -> None:
        self.llm = LLMS[llm]

    async def on_ask(self, msg: Ask) -> str:
        return await self.ctx.step("complete", self.llm.complete_blocking, msg.prompt)


class Unrecordable(af.Actor[None], kind="agents.Unrecordable"):
    async def on_ask(self, msg: Ask) -> object:
        return await self.ctx.step("socket", threading.Lock)


class Remind(af.Message, tag="agents.Remind"):
    text: str


class SetReminder(af.Message, tag="agents.SetReminder"):
    text: str
    seconds: float
    cancel: bool = False


class Reminders(af.State):
    fired: list[str] = []
    timers: list[str] = []


FIRED: dict[str, anyio.Event] = {}
"""Set by the Reminder of that name each time a Remind arrives (tests wait on it)."""


async def fired(ref: af.ActorRef[Reminder], count: int) -> list[str]:
    """The reminder's fired texts once it has `count` of them (waits on `FIRED`)."""
    with anyio.fail_after(20):
        while True:
            event = FIRED[ref.name] = anyio.Event()
            found = (await ref.ask(Ask("state?"), expect=Reminders)).fired
            if len(found) >= count:
                return found
            await event.wait()


class Reminder(af.Actor[Reminders], kind="agents.Reminder"):
    """Sets timers for itself from a handler (stored with its commit) and records them firing."""

    async def on_set_reminder(self, msg: SetReminder) -> str:
        timer = await self.ctx.schedule(msg.seconds, Remind(msg.text))
        self.state.timers.append(timer)
        if msg.cancel:
            await self.ctx.cancel_timer(timer)
        return timer

    def on_remind(self, msg: Remind) -> None:
        self.state.fired.append(msg.text)
        event = FIRED.get(self.ctx.name)
        if event is not None:
            event.set()

    def on_ask(self, msg: Ask) -> Reminders:
        return self.state


class Relay(af.Message, tag="agents.Relay"):
    path: list[str]
    fan_out: int = 1


class Relayer(af.Actor[None], kind="agents.Relayer"):
    """Passes a Relay along its path, to `fan_out` copies of the next hop."""

    async def on_relay(self, msg: Relay) -> None:
        if not msg.path:
            return
        head, *rest = msg.path
        target = self.ctx.system.lookup(head)
        for _ in range(msg.fan_out):
            await target.tell(Relay(rest))


class Say(af.Message, tag="agents.Say"):
    text: str


class History(af.State):
    said: list[str] = []


UNLOADED: dict[str, anyio.Event] = {}
"""Set by the Session of that name when it is unloaded (its on_stop runs)."""


class Session(af.Actor[History], kind="agents.Session"):
    """A chat session: remembers what was said."""

    def on_say(self, msg: Say) -> list[str]:
        self.state.said.append(msg.text)
        return self.state.said

    def on_remind(self, msg: Remind) -> None:
        self.state.said.append(f"reminder: {msg.text}")

    async def on_stop(self) -> None:
        event = UNLOADED.get(self.ctx.name)
        if event is not None:
            event.set()


async def unloaded(name: str) -> None:
    """Wait until the session `name` is unloaded (armed before the wait begins)."""
    with anyio.fail_after(20):
        await UNLOADED[name].wait()


def outside(message_id: str, recipient: str = "rem") -> MessageRecord:
    """A Remind as another process would append it (J11)."""
    body = af.Codec(Remind).encode(Remind("from outside"))
    return MessageRecord(id=message_id, recipient=recipient, type="agents.Remind", body=body)


class HeldWriter:
    """Holds a journal's writer right after the commit of a batch that appends a message
    `matching` picks: the message is committed, and its delivery (and every later commit)
    waits until `released` is set. Tests force races this way instead of leaving them to timing.
    """

    def __init__(self, journal: JournalBackend, matching: Callable[[MessageRecord], bool]) -> None:
        self.committed = anyio.Event()
        self.released = anyio.Event()
        self._journal, self._write, self._matching = journal, journal.write, matching
        journal.write = self._held_write  # type: ignore[method-assign]

    async def _held_write(self, batch: Batch) -> list[int | None]:
        seqs = await self._write(batch)
        if any(self._matching(record) for record in batch.appends):
            self.committed.set()
            await self.released.wait()
        return seqs

    def undo(self) -> None:
        self._journal.write = self._write  # type: ignore[method-assign]
