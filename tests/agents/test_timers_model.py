"""A model-based test of durable timers (J6) across restarts, kills and passivation (J5).

Hypothesis sets timers due within a few milliseconds, from a handler (stored with its commit)
and from outside (``system.schedule``), cancels some of them, and restarts or kills the system
while they are due, on a real SQLite journal. The actors unload when idle, so timers also bring
them back. `settle` waits until every timer that must fire has fired, and checks that each fired
at most once and that none fired that was cancelled in the handler that set it: once, late
rather than never.
"""

from __future__ import annotations

import itertools

import anyio
import anyio.lowlevel
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import rule

import actorflow as af

from .machines import SystemMachine
from .support import FIRED, Ask, Remind, Reminder, Reminders, SetReminder

NAMES = ("r1", "r2")
IDLE = 0.005  # seconds idle before an actor unloads
delays = st.floats(0, 0.02)


class TimerMachine(SystemMachine):
    def __init__(self) -> None:
        self.texts = (f"t{i}" for i in itertools.count())
        self.must: dict[str, set[str]] = {name: set() for name in NAMES}  # fire exactly once
        self.may: dict[str, set[str]] = {name: set() for name in NAMES}  # at most once
        self.never: dict[str, set[str]] = {name: set() for name in NAMES}  # cancelled in handler
        self.outside_timers: dict[str, tuple[str, str]] = {}  # timer id -> (name, text)
        self.refs: dict[str, af.ActorRef[Reminder]] = {}
        super().__init__()

    def started(self) -> None:
        # No spawns yet: actors that unloaded stay in the journal, and timers that come due
        # bring them back before anyone asks for them.
        self.refs = {}

    async def _ref(self, name: str) -> af.ActorRef[Reminder]:
        ref = self.refs.get(name)
        if ref is None:
            ref = self.refs[name] = await self.system.spawn(
                Reminder, name=name, passivate_after=IDLE
            )
        return ref

    @rule(name=st.sampled_from(NAMES), seconds=delays, cancel=st.booleans())
    def set_in_handler(self, name: str, seconds: float, cancel: bool) -> None:
        """A handler sets a timer (and maybe cancels it) in its own commit."""
        text = next(self.texts)
        self.call(self._tell, name, SetReminder(text, seconds, cancel))
        (self.never if cancel else self.must)[name].add(text)

    async def _tell(self, name: str, message: SetReminder) -> None:
        await (await self._ref(name)).tell(message)

    @rule(name=st.sampled_from(NAMES), seconds=delays)
    def set_from_outside(self, name: str, seconds: float) -> None:
        text = next(self.texts)
        timer_id = self.call(self._schedule, name, seconds, text)
        self.outside_timers[timer_id] = (name, text)
        self.must[name].add(text)

    async def _schedule(self, name: str, seconds: float, text: str) -> str:
        return await self.system.schedule(seconds, Remind(text), to=await self._ref(name))

    @rule(data=st.data())
    def cancel_from_outside(self, data: st.DataObject) -> None:
        """Cancel a timer set from outside: it fired already, or it never will."""
        if not self.outside_timers:
            return
        timer_id = data.draw(st.sampled_from(list(self.outside_timers)))
        name, text = self.outside_timers.pop(timer_id)
        self.call(self.system.cancel_timer, timer_id)
        self.must[name].discard(text)
        self.may[name].add(text)

    @rule()
    def restart(self) -> None:
        self.restart_system()

    @rule(steps=st.integers(0, 60))
    def kill_after(self, steps: int) -> None:
        self.kill_system(steps)

    @rule()
    def settle(self) -> None:
        for name in NAMES:
            fired = self.call(self._settle, name)
            self.note_dead_letters()
            assert len(fired) == len(set(fired)), f"fired twice: {fired}"
            assert not set(fired) & self.never[name], "a timer cancelled with its setting fired"
            assert set(fired) <= self.must[name] | self.may[name] | self.never[name]

    async def _settle(self, name: str) -> list[str]:
        """Wait until every timer of `name` that must fire has (FIRED is set on each)."""
        fired: list[str] = []
        try:
            with anyio.fail_after(30):
                while True:
                    event = FIRED[name] = anyio.Event()
                    ref = await self._ref(name)
                    fired = (await ref.ask(Ask("fired?"), expect=Reminders)).fired
                    self.note_dead_letters()
                    if self.must[name] - self.dead <= set(fired):
                        return fired
                    await event.wait()
        except TimeoutError:
            missing = sorted(self.must[name] - self.dead - set(fired))
            timers = [(t.id, t.message.recipient, t.due_at) for t in await self.journal.timers()]
            pending = [(m.id, m.recipient, m.type, m.status) for m in await self.journal.pending()]
            ref = await self._ref(name)
            state = (await ref.ask(Ask("fired?"), expect=Reminders)).timers
            armed = self.system._services.timers.armed()
            raise AssertionError(
                f"{name}: never fired: {missing}; fired: {fired}; journal timers {timers};"
                f" pending {pending}; set by the actor {state}; armed {armed}"
            ) from None


TimerMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=20, deadline=None)
test_timers_model = TimerMachine.TestCase
