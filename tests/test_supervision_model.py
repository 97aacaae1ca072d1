"""A model-based test of a supervisor with random child failures (S2, S4, S6, S8).

Hypothesis drives a real three-child supervisor with random strategies, failures, messages and
clock moves, and after every step compares it with a model of OTP's rules: who was stopped and
started in which order, who kept its count, how many restarts the intensity allows, and that
every message sent was handled exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import tenacity
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import actorflow as af
from actorflow import testing

from .support import Add, Fail, Get

NAMES = ("a", "b", "c")
MAX_RESTARTS, WITHIN = 3, 5.0


class Member(af.Actor[None]):
    def __init__(self, log: list[str], handled: list[tuple[str, int]]) -> None:
        self.log, self.handled, self.count = log, handled, 0

    async def on_start(self) -> None:
        self.log.append(f"start {self.ctx.name}")

    async def on_stop(self) -> None:
        self.log.append(f"stop {self.ctx.name}")

    def on_add(self, msg: Add) -> None:
        self.count += 1
        self.handled.append((self.ctx.name, msg.n))

    def on_get(self, msg: Get) -> int:
        return self.count

    def on_fail(self, msg: Fail) -> None:
        raise RuntimeError("random failure")


@contextmanager
def running_system(clock: testing.FakeClock) -> Iterator[tuple[BlockingPortal, af.ActorSystem]]:
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(af.ActorSystem(clock=clock)) as system,
    ):
        yield portal, system


class SupervisorMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = testing.FakeClock()
        self._context = running_system(self.clock)
        self.portal, self.system = self._context.__enter__()
        self.log: list[str] = []
        self.handled: list[tuple[str, int]] = []
        self.counts = dict.fromkeys(NAMES, 0)
        self.restart_times: list[float] = []
        self.sent: list[tuple[str, int]] = []
        self.gave_up = False
        self.strategy: af.Strategy = "one_for_one"

    def call(self, fn: Any, *args: Any) -> Any:
        return self.portal.call(fn, *args)

    @initialize(strategy=st.sampled_from(["one_for_one", "one_for_all", "rest_for_one"]))
    def start_team(self, strategy: af.Strategy) -> None:
        self.strategy = strategy
        children = [
            af.Child(Member, self.log, self.handled, name=name, max_attempts=1) for name in NAMES
        ]
        spec = af.Supervisor(
            name="team",
            strategy=strategy,
            restart="temporary",
            max_restarts=MAX_RESTARTS,
            within=WITHIN,
            backoff=tenacity.wait_none(),
            children=children,
        )
        self.call(self.system.start, spec)
        assert self.log == [f"start {name}" for name in NAMES]
        self.log.clear()

    @precondition(lambda self: not self.gave_up)
    @rule(child=st.sampled_from(NAMES), n=st.integers(1, 3))
    def send(self, child: str, n: int) -> None:
        for _ in range(n):
            seq = len(self.sent)
            self.sent.append((child, seq))
            self.call(self.system.lookup(child).tell, Add(seq))
            self.counts[child] += 1
        self.settle()
        assert self.log == []

    @precondition(lambda self: not self.gave_up)
    @rule(seconds=st.sampled_from([0.5, 1.0, 2.0, 6.0]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @precondition(lambda self: not self.gave_up)
    @rule(child=st.sampled_from(NAMES))
    def fail(self, child: str) -> None:
        self.call(self.system.lookup(child).tell, Fail())
        self.settle()
        now = self.clock.now()
        recent = [t for t in self.restart_times if now - t < WITHIN]
        index = NAMES.index(child)
        if len(recent) >= MAX_RESTARTS:
            self.gave_up = True
            others = [name for name in reversed(NAMES) if name != child]
            assert self.log == [f"stop {child}"] + [f"stop {name}" for name in others]
            for name in NAMES:
                with pytest.raises(af.ActorNotFound):
                    self.system.lookup(name)
            return
        self.restart_times = [*recent, now]
        group = {
            "one_for_one": [child],
            "one_for_all": list(NAMES),
            "rest_for_one": list(NAMES[index:]),
        }[self.strategy]
        stops = [f"stop {child}"] + [f"stop {n}" for n in reversed(group) if n != child]
        assert self.log == stops + [f"start {name}" for name in group]
        for name in group:
            self.counts[name] = 0
        self.log.clear()

    @precondition(lambda self: self.gave_up)
    @rule(child=st.sampled_from(NAMES))
    def nothing_is_accepted_after_giving_up(self, child: str) -> None:
        with pytest.raises(af.ActorNotFound):
            self.system.lookup(child)
        assert all(letter.actor in NAMES for letter in self.system.dead_letters)

    def settle(self) -> None:
        self.call(self.system.wait_idle)

    @invariant()
    def counts_match_the_model(self) -> None:
        if self.gave_up:
            return
        for name in NAMES:
            assert self.call(self.system.lookup(name).ask, Get()) == self.counts[name]

    @invariant()
    def every_message_sent_was_handled_once_in_order(self) -> None:
        if not self.gave_up:
            assert self.handled == self.sent

    def teardown(self) -> None:
        self._context.__exit__(None, None, None)


SupervisorMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=15, deadline=None
)
test_supervisor_model = SupervisorMachine.TestCase
