"""A model-based test of durable actors under crashes (J2, J3, J5).

Hypothesis sends deposits and transfers between three durable accounts, crashes the system at
random moments (every task cancelled where it stands, nothing stopped gracefully, only what was
committed survives) and restarts it on the same journal. Whenever the accounts have settled,
their balances must be exactly what the acknowledged messages say: nothing lost, nothing done
twice, transfers never half-applied.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections import Counter
from typing import Any

import anyio.lowlevel
from anyio.from_thread import start_blocking_portal
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import actorflow as af
from actorflow.journal import MemoryJournal

from .durable_support import Account, Balance, Deposit, Ledger, Transfer

NAMES = ("x", "y", "z")


class DurableMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._portal_cm = start_blocking_portal()
        self.portal = self._portal_cm.__enter__()
        self.journal = MemoryJournal()
        self.balances = dict.fromkeys(NAMES, 0)
        self.deposits: dict[str, Counter[int]] = {name: Counter() for name in NAMES}
        self.sent = 0
        self.crashes = 0
        self._start()

    def _start(self) -> None:
        self.system = af.ActorSystem(journal=self.journal)
        self._system_cm = self.portal.wrap_async_context_manager(self.system)
        self._system_cm.__enter__()
        for name in NAMES:
            self.portal.call(self._spawn, name)

    async def _spawn(self, name: str) -> None:
        await self.system.spawn(Account, name, name=name)

    def call(self, fn: Any, *args: Any) -> Any:
        return self.portal.call(fn, *args)

    @rule(to=st.sampled_from(NAMES), amount=st.integers(1, 50))
    def deposit(self, to: str, amount: int) -> None:
        self.sent += 1
        self.call(self.system.lookup(to).tell, Deposit(amount))
        self.balances[to] += amount
        self.deposits[to][amount] += 1

    @rule(source=st.sampled_from(NAMES), to=st.sampled_from(NAMES), amount=st.integers(1, 50))
    def transfer(self, source: str, to: str, amount: int) -> None:
        self.call(self.system.lookup(source).tell, Transfer(to, amount))
        self.balances[source] -= amount
        self.balances[to] += amount
        self.deposits[to][amount] += 1

    @rule(
        burst=st.lists(
            st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES), st.integers(1, 50)),
            max_size=6,
        ),
        steps=st.integers(0, 60),
    )
    def crash(self, burst: list[tuple[str, str, int]], steps: int) -> None:
        """Send a burst of transfers, let `steps` loop iterations pass, then cancel everything
        where it stands, as SIGKILL would, and recover: crashes land inside the work."""
        self.crashes += 1
        self.call(self._burst_then_kill, burst, steps)
        # The system's own task ends cancelled, like a killed process.
        with contextlib.suppress(concurrent.futures.CancelledError):
            self._system_cm.__exit__(None, None, None)
        self._start()

    async def _burst_then_kill(self, burst: list[tuple[str, str, int]], steps: int) -> None:
        for source, to, amount in burst:
            await self.system.lookup(source).tell(Transfer(to, amount))
            self.balances[source] -= amount
            self.balances[to] += amount
            self.deposits[to][amount] += 1
        for _ in range(steps):
            await anyio.lowlevel.checkpoint()
        self.system.kill()

    @rule()
    def settle(self) -> None:
        self.call(self.system.wait_idle)
        for name in NAMES:
            ledger = self.call(self._ledger, name)
            assert ledger.balance == self.balances[name]
            assert Counter(ledger.history) == self.deposits[name]

    async def _ledger(self, name: str) -> Ledger:
        return await self.system.lookup(name).ask(Balance(), expect=Ledger)

    @invariant()
    def nothing_is_dead(self) -> None:
        assert not self.system.dead_letters

    def teardown(self) -> None:
        try:
            self._system_cm.__exit__(None, None, None)
        finally:
            self._portal_cm.__exit__(None, None, None)


DurableMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
test_durable_model = DurableMachine.TestCase
