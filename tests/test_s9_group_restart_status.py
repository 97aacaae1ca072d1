"""An actor's status is one phase, never contradictory (S9): every child waiting in a restart
backoff reads "restarting", whichever strategy put it there (S2, S5, S6)."""

from __future__ import annotations

import anyio
import pytest
import tenacity

import actorflow as af
from actorflow import testing

pytestmark = pytest.mark.anyio


class Fail(af.Message, tag="test.s9status.Fail"):
    pass


class Ping(af.Message, tag="test.s9status.Ping"):
    pass


class Worker(af.Actor[None]):
    def on_fail(self, msg: Fail) -> None:
        raise RuntimeError("boom")

    def on_ping(self, msg: Ping) -> str:
        return f"pong from {self.ctx.name}"


async def until_the_supervisor_sleeps(clock: testing.FakeClock) -> None:
    """Let every task run until the supervisor waits in its backoff on the fake clock."""
    for _ in range(100):
        if clock.sleepers:
            break
        await anyio.wait_all_tasks_blocked()
    assert clock.sleepers == 1, clock


async def fail_b_and_check_statuses(strategy: af.Strategy, in_backoff: str) -> None:
    """Fail b; while its supervisor waits 30 s, the children `in_backoff` read "restarting"
    and the others "running"; after the wait all of them run and answer."""
    clock = testing.FakeClock()  # time moves only when the test says
    root = af.Supervisor(
        name="root",
        strategy=strategy,
        backoff=tenacity.wait_fixed(30),
        children=[af.Child(Worker, name=n, max_attempts=1) for n in "abc"],
    )
    async with af.ActorSystem(root=root, clock=clock) as system:
        await system.lookup("b").tell(Fail())
        await until_the_supervisor_sleeps(clock)
        statuses = {n: system.lookup(n).status for n in "abc"}
        expected = {n: "restarting" if n in in_backoff else "running" for n in "abc"}
        assert statuses == expected
        clock.advance(30)
        await testing.wait_idle(system)
        statuses = {n: system.lookup(n).status for n in "abc"}
        assert statuses == dict.fromkeys("abc", "running")
        for n in "abc":
            assert await system.lookup(n).ask(Ping()) == f"pong from {n}"


@pytest.mark.timeout(30)
async def test_s9_every_child_of_a_one_for_all_group_in_backoff_reads_restarting() -> None:
    await fail_b_and_check_statuses("one_for_all", in_backoff="abc")


@pytest.mark.timeout(30)
async def test_s9_a_failed_child_in_its_own_one_for_one_backoff_reads_restarting() -> None:
    await fail_b_and_check_statuses("one_for_one", in_backoff="b")
