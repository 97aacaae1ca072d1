"""A model-based test of passivation (J5) with messages arriving at every moment of it.

Hypothesis drives two durable chat sessions that unload after a few milliseconds idle, on a
real SQLite journal (its reader connection and its writer thread both in play). Bursts of tells
land at random moments around the unloading (before it, during ``on_stop``, while the actor
comes back), through the kept ref, from several tasks at once; ``spawn`` by name brings an actor
back beside them; another process appends messages to the journal and wakes the system (J11);
the system is restarted, or killed right after a burst. Every ask checks that the session has
handled each acknowledged tell exactly once and no message twice: nothing lost to an unloading
actor, nothing taken twice by one coming back (J3, J5); `settle` waits until the messages from
the other process have been handled too.
"""

from __future__ import annotations

import itertools
import sqlite3
from functools import partial

import anyio
import anyio.lowlevel
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import rule

import actorflow as af
from actorflow.journal import MessageRecord
from actorflow.journal._statements import append_outside
from actorflow.journal._wake import wake

from .machines import SystemMachine
from .support import Say, Session

NAMES = ("p", "q")
SAY = af.Codec(Say)
IDLE = 0.005  # seconds idle before a session unloads: short, so unloading happens all the time

# A burst's sends: (recipient, seconds to wait before sending). Waits span the idle time, so
# sends land before, during and after an unload.
sends = st.lists(st.tuples(st.sampled_from(NAMES), st.floats(0, 3 * IDLE)), min_size=1, max_size=8)


class PassivationMachine(SystemMachine):
    def __init__(self) -> None:
        self.said: dict[str, list[str]] = {name: [] for name in NAMES}  # acknowledged, per name
        self.outside: dict[str, set[str]] = {name: set() for name in NAMES}  # from elsewhere
        self.texts = (f"m{i}" for i in itertools.count())
        self.refs: dict[str, af.ActorRef[Session]] = {}
        super().__init__()

    def started(self) -> None:
        for name in NAMES:
            self.refs[name] = self.call(self._spawn, name)

    async def _spawn(self, name: str) -> af.ActorRef[Session]:
        return await self.system.spawn(Session, name=name, passivate_after=IDLE)

    async def _burst(self, burst: list[tuple[str, float]], respawn: bool) -> None:
        """Send every message of `burst` from its own task; return once all are committed."""

        async def send(name: str, delay: float, text: str) -> None:
            await anyio.sleep(delay)  # a sampled moment, not a wait for an event
            await self.refs[name].tell(Say(text))
            self.said[name].append(text)

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for name, delay in burst:
                    tg.start_soon(send, name, delay, next(self.texts))
                if respawn:
                    for name in NAMES:
                        tg.start_soon(self._spawn, name)  # brings it back beside the sends

    @rule(burst=sends, respawn=st.booleans())
    def burst(self, burst: list[tuple[str, float]], respawn: bool) -> None:
        self.call(self._burst, burst, respawn)

    @rule(name=st.sampled_from(NAMES))
    def unload(self, name: str) -> None:
        """Wait until `name` has unloaded (it does once it has been idle for IDLE)."""
        self.call(self._wait_unloaded, self.refs[name])

    async def _wait_unloaded(self, ref: af.ActorRef[Session]) -> None:
        with anyio.fail_after(30):
            while ref.status != "passivated":
                await anyio.lowlevel.checkpoint()

    @rule(name=st.sampled_from(NAMES))
    def ask(self, name: str) -> None:
        """Every tell acknowledged before the ask was handled before it, exactly once; no
        message was handled twice."""
        self.check(name, self.ask_once(name))

    def ask_once(self, name: str) -> list[str]:
        text = next(self.texts)
        handled: list[str] = self.call(self._ask, name, text)
        self.said[name].append(text)
        return handled

    def check(self, name: str, handled: list[str]) -> None:
        assert len(handled) == len(set(handled)), f"handled twice: {handled}"
        self.note_dead_letters()
        told = [text for text in handled if text not in self.outside[name]]
        # A tell can also be a dead letter, visibly: when kills landed on each of its attempts
        # (S7 counts an attempt when it is claimed, so that a message that kills the process
        # cannot loop for ever).
        assert not set(told) & self.dead
        assert sorted(told) == sorted(t for t in self.said[name] if t not in self.dead)

    @rule(name=st.sampled_from(NAMES))
    def from_another_process(self, name: str) -> None:
        """Append a message as `actorflow send` does, on another connection, and wake."""
        text = next(self.texts)
        record = MessageRecord(
            id=f"outside-{text}", recipient=name, type="agents.Say", body=SAY.encode(Say(text))
        )
        conn = sqlite3.connect(self.journal.path, isolation_level=None)
        try:
            append_outside(conn, record)
        finally:
            conn.close()
        wake(self.journal.path)
        self.outside[name].add(text)

    @rule()
    def settle(self) -> None:
        """Messages from the other process are handled too (J11), each once."""
        for name in NAMES:
            self.call(self._settle, name)

    async def _settle(self, name: str) -> None:
        with anyio.fail_after(30):
            while True:  # asks until the pick-up (milliseconds after the wake-up) has happened
                text = next(self.texts)
                handled = await self._ask(name, text)
                self.said[name].append(text)
                self.check(name, handled)
                if self.outside[name] - self.dead <= set(handled):
                    return

    async def _ask(self, name: str, text: str) -> list[str]:
        with anyio.fail_after(30):
            said: list[str] = await self.refs[name].ask(Say(text))
        return said

    @rule()
    def restart(self) -> None:
        self.restart_system()

    @rule(burst=sends, steps=st.integers(0, 40))
    def kill_after(self, burst: list[tuple[str, float]], steps: int) -> None:
        """A burst, then a kill `steps` loop iterations later: what was acknowledged survives."""
        self.kill_system(steps, partial(self._burst, burst, False))


PassivationMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=20, deadline=None
)
test_passivation_model = PassivationMachine.TestCase
