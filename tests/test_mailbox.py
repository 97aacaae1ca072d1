"""Bounded mailboxes and backpressure (A2), ask (A3)."""

from __future__ import annotations

import gc
import tracemalloc

import anyio
import pytest

import actorflow as af
from actorflow import testing

from .support import Add, Block, Blocker, Counter, Fail, Gate, Get, Ping

pytestmark = pytest.mark.anyio


async def test_a2_tell_nowait_raises_when_full_and_enqueues_nothing() -> None:
    gate = Gate()
    async with af.ActorSystem() as system:
        ref = await system.spawn(Blocker, gate, name="slow", mailbox_size=2)
        await ref.tell(Block())
        await gate.entered.wait()
        ref.tell_nowait(Ping(1))
        ref.tell_nowait(Ping(2))
        with pytest.raises(af.MailboxFull, match=r"mailbox of slow is full \(2 messages\)"):
            ref.tell_nowait(Ping(3))
        assert ref.statistics().mailbox_depth == 2
        gate.release.set()
        await testing.wait_idle(ref)
    assert gate.handled == [1, 2]


async def test_a2_tell_waits_for_room_and_loses_nothing() -> None:
    gate = Gate()
    async with af.ActorSystem() as system:
        ref = await system.spawn(Blocker, gate, mailbox_size=1)
        await ref.tell(Block())
        await gate.entered.wait()
        await ref.tell(Ping(0))  # fills the mailbox
        sent = anyio.Event()

        async def send_more() -> None:
            for n in range(1, 4):
                await ref.tell(Ping(n))
            sent.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(send_more)
            await anyio.wait_all_tasks_blocked()
            assert not sent.is_set()  # backpressure: the sender waits
            assert ref.statistics().mailbox_depth == 1
            gate.release.set()
        await testing.wait_idle(ref)
    assert sent.is_set()
    assert gate.handled == [0, 1, 2, 3]


class SlowConsumer(af.Actor[None]):
    """Ten checkpoints per message: the producer, with none, is at least 10x faster."""

    def __init__(self, done: anyio.Event, expected: int) -> None:
        self.done, self.expected, self.count = done, expected, 0

    async def on_add(self, msg: Add) -> None:
        for _ in range(10):
            await anyio.lowlevel.checkpoint()
        self.count += 1
        if self.count == self.expected:
            self.done.set()


async def test_a2_overload_ends_with_everything_handled_and_memory_flat() -> None:
    total, capacity = 8_000, 100
    done = anyio.Event()
    samples: list[int] = []
    tracemalloc.start()
    try:
        async with af.ActorSystem() as system:
            ref = await system.spawn(SlowConsumer, done, total, mailbox_size=capacity)
            message = Add(1)
            max_depth = 0
            for n in range(total):
                await ref.tell(message)
                max_depth = max(max_depth, ref.statistics().mailbox_depth)
                if n % (total // 4) == total // 4 - 1:
                    gc.collect()
                    samples.append(tracemalloc.get_traced_memory()[0])
            await done.wait()
            assert ref.statistics().handled == total
    finally:
        tracemalloc.stop()
    assert max_depth <= capacity
    # Memory after a quarter of the messages and after all of them is the same within noise:
    # the mailbox bounds it, not the number of messages sent.
    assert samples[-1] - samples[0] < 64 * 1024, samples


async def test_a3_ask_returns_the_reply() -> None:
    async with af.ActorSystem() as system:
        ref = await system.spawn(Counter)
        assert await ref.ask(Add(3), timeout=1) == 3
        assert await ref.ask(Get(), expect=int) == 3


async def test_a3_ask_expect_checks_the_reply_type() -> None:
    async with af.ActorSystem() as system:
        ref = await system.spawn(Counter, name="c")
        with pytest.raises(af.UnexpectedReply, match="c replied int to Get, expected str"):
            await ref.ask(Get(), expect=str)


async def test_a3_ask_timeout_is_a_timeout_error_and_the_message_is_still_handled() -> None:
    gate = Gate()
    async with af.ActorSystem() as system:
        ref = await system.spawn(Blocker, gate, name="stuck")
        await ref.tell(Block())
        await gate.entered.wait()
        with pytest.raises(TimeoutError) as info:
            await ref.ask(Ping(1), timeout=0.01)
        assert isinstance(info.value, af.AskTimeout)
        assert "stuck did not reply to Ping within 0.01 s" in str(info.value)
        gate.release.set()
        await testing.wait_idle(ref)
    assert gate.handled == [1]


async def test_a3_ask_timeout_covers_waiting_for_room() -> None:
    gate = Gate()
    async with af.ActorSystem() as system:
        ref = await system.spawn(Blocker, gate, mailbox_size=1)
        await ref.tell(Block())
        await gate.entered.wait()
        await ref.tell(Ping(0))
        with pytest.raises(af.AskTimeout):
            await ref.ask(Ping(1), timeout=0.01)
        assert ref.statistics().mailbox_depth == 1  # the timed-out ask was never enqueued
        gate.release.set()
        await testing.wait_idle(ref)
    assert gate.handled == [0]


async def test_a3_ask_raises_the_failure_with_the_original_as_cause() -> None:
    async with af.ActorSystem() as system:
        ref = await system.spawn(Counter, name="c", max_attempts=1)
        expected = "c failed handling Fail: RuntimeError: bad"
        with pytest.raises(af.ActorFailed, match=expected) as info:
            await ref.ask(Fail("bad"))
        assert isinstance(info.value.__cause__, RuntimeError)
        assert info.value.actor == "c"
        assert await ref.ask(Ping(5)) == 5  # restarted, still serving


async def test_a3_asks_queued_when_the_actor_stops_get_actor_stopped() -> None:
    gate = Gate()
    async with af.ActorSystem() as system:
        ref = await system.spawn(Blocker, gate, name="b", shutdown_timeout=0.05)
        await ref.tell(Block())
        await gate.entered.wait()
        async with anyio.create_task_group() as tg:
            outcome: list[BaseException] = []

            async def ask() -> None:
                try:
                    await ref.ask(Ping(1))
                except af.ActorStopped as exc:
                    outcome.append(exc)

            tg.start_soon(ask)
            await anyio.wait_all_tasks_blocked()
            await ref.stop()  # Block never finishes: cancelled after the shutdown timeout
        assert [str(e) for e in outcome] == ["actor b has stopped"]
        with pytest.raises(af.ActorStopped):
            await ref.ask(Ping(2))
        assert [d.reason for d in system.dead_letters] == ["stopped", "stopped"]


async def test_a3_answered_asks_hold_no_timer_state() -> None:
    async with af.ActorSystem() as system:
        ref = await system.spawn(Counter)
        for n in range(1000):
            await ref.ask(Ping(n), timeout=60)
        assert len(system._services.deadlines) == 0
