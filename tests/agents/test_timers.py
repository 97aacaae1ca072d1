"""Durable timers (J6): fire once, also after a restart, late rather than never; cancellable."""

from __future__ import annotations

import datetime as dt
import time

import anyio
import pytest

import actorflow as af
from actorflow import testing
from actorflow.journal import Batch, JournalBackend, MemoryJournal, MessageRecord, TimerRecord

from .support import FIRED, Ask, Remind, Reminder, Reminders, SetReminder, fired

pytestmark = pytest.mark.anyio


async def state(ref: af.ActorRef[Reminder]) -> Reminders:
    return await ref.ask(Ask("state?"), expect=Reminders)


async def test_j6_a_timer_set_in_a_handler_fires_once(journal: JournalBackend) -> None:
    clock = testing.FakeClock(autojump=True)
    async with af.ActorSystem(journal=journal, clock=clock) as system:
        ref = await system.spawn(Reminder, name="rem")
        await ref.ask(SetReminder("stretch", 60))
        assert await fired(ref, 1) == ["stretch"]
        await system.wait_idle()
        assert await journal.timers() == []  # fired: gone from the journal
        assert (await state(ref)).fired == ["stretch"]


async def test_j6_a_timer_fires_after_a_restart_of_the_system(journal: JournalBackend) -> None:
    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Reminder, name="rem")
        timer = await ref.ask(SetReminder("after restart", 3600))
        (stored,) = await journal.timers()
        assert stored.id == timer
    clock = testing.FakeClock(autojump=True)
    async with af.ActorSystem(journal=journal, clock=clock) as system:
        ref = system.lookup("rem")
        assert await fired(ref, 1) == ["after restart"]
        assert await journal.timers() == []
    async with af.ActorSystem(journal=journal, clock=clock) as system:
        await system.wait_idle()
        assert (await state(system.lookup("rem"))).fired == ["after restart"]  # once


async def test_j6_a_timer_due_while_the_system_was_down_fires_late(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        await system.spawn(Reminder, name="rem")
    await journal.open()
    body = af.Codec(Remind).encode(Remind("overdue"))
    message = MessageRecord(id="t-1", recipient="rem", type="agents.Remind", body=body)
    await journal.write(Batch(timers=[TimerRecord(message, due_at=time.time() - 3600)]))
    await journal.close()
    async with af.ActorSystem(journal=journal) as system:
        ref = system.lookup("rem")
        assert await fired(ref, 1) == ["overdue"]
        found = await journal.message("t-1")
        assert found is not None
        assert found.status == "done"


async def test_j6_a_timer_due_at_the_start_brings_back_an_actor_left_in_the_journal(
    journal: JournalBackend,
) -> None:
    """The actor unloads when idle, so a new system leaves it in the journal (J5); its overdue
    timer fires after the start and brings it back, and it handles the timer's message, which
    the journal read at start did not hold yet."""
    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Reminder, name="idle-rem", passivate_after=0.01)
        await ref.ask(Ask("hello"))
    await journal.open()
    body = af.Codec(Remind).encode(Remind("overdue"))
    message = MessageRecord(id="t-2", recipient="idle-rem", type="agents.Remind", body=body)
    await journal.write(Batch(timers=[TimerRecord(message, due_at=time.time() - 3600)]))
    await journal.close()
    async with af.ActorSystem(journal=journal) as system:
        FIRED["idle-rem"] = anyio.Event()
        with anyio.fail_after(20):
            await FIRED["idle-rem"].wait()  # handled by the actor it brought back
        ref = await system.spawn(Reminder, name="idle-rem", passivate_after=0.01)
        assert (await state(ref)).fired == ["overdue"]  # after that message's commit
        found = await journal.message("t-2")
        assert found is not None
        assert found.status == "done"


async def test_j6_a_cancelled_timer_never_fires(journal: JournalBackend) -> None:
    clock = testing.FakeClock(autojump=True)
    async with af.ActorSystem(journal=journal, clock=clock) as system:
        ref = await system.spawn(Reminder, name="rem")
        await ref.ask(SetReminder("never", 10, cancel=True))
        await ref.ask(SetReminder("later", 20))
        assert await fired(ref, 1) == ["later"]
        assert await journal.timers() == []


async def test_j6_timers_set_from_outside_and_cancelled_from_outside(
    journal: JournalBackend,
) -> None:
    clock = testing.FakeClock()
    async with af.ActorSystem(journal=journal, clock=clock) as system:
        ref = await system.spawn(Reminder, name="rem")
        keep = await system.schedule(dt.timedelta(minutes=5), Remind("kept"), to=ref)
        drop = await system.schedule(
            dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1), Remind("dropped"), to=ref
        )
        await system.cancel_timer(drop)
        assert [t.id for t in await journal.timers()] == [keep]
        clock.advance(600)
        assert await fired(ref, 1) == ["kept"]


async def test_j6_in_memory_actors_get_timers_in_memory() -> None:
    clock = testing.FakeClock()
    async with af.ActorSystem(clock=clock) as system:
        ref = await system.spawn(Reminder)
        await ref.ask(SetReminder("soon", 5))
        await ref.ask(SetReminder("sooner", 1))
        clock.advance(10)
        assert await fired(ref, 2) == ["sooner", "soon"]


async def test_j6_bad_delays_and_wrong_message_types_are_refused() -> None:
    async with af.ActorSystem() as system:
        ref = await system.spawn(Reminder)
        with pytest.raises(ValueError, match="finite number of seconds >= 0"):
            await system.schedule(-1, Remind("x"), to=ref)
        with pytest.raises(ValueError, match="finite number of seconds >= 0"):
            await system.schedule(float("nan"), Remind("x"), to=ref)
        with pytest.raises(af.MessageTypeError):
            await system.schedule(1, SetReminder("x", 1), to=await system.spawn(_Other))


class _Other(af.Actor[None]):
    def on_remind(self, msg: Remind) -> None: ...


class _FailsFirstFire(MemoryJournal):
    """A journal whose first commit that fires a timer fails with an error the writer does not
    retry (a full disk is retried for a while, J9; this one reaches the timers)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed_fires = 0

    async def write(self, batch: Batch) -> list[int | None]:
        if batch.cancels and batch.appends and not self.failed_fires:
            self.failed_fires += 1
            raise af.JournalCorrupt("an I/O error (a test)")
        return await super().write(batch)


async def test_j6_a_timer_whose_firing_failed_fires_when_it_can() -> None:
    journal = _FailsFirstFire()
    clock = testing.FakeClock(autojump=True)
    with testing.capture_logs() as logs:
        async with af.ActorSystem(journal=journal, clock=clock) as system:
            ref = await system.spawn(Reminder, name="rem")
            await ref.ask(SetReminder("despite the disk", 5))
            assert await fired(ref, 1) == ["despite the disk"]
            assert journal.failed_fires == 1
            assert await journal.timers() == []
    assert any("could not fire" in r.getMessage() for r in logs)
