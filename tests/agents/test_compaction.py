"""Retention (J10): compaction removes done messages and their steps, keeps what is needed."""

from __future__ import annotations

import datetime as dt
import time

import anyio
import pytest

import actorflow as af
from actorflow import testing
from actorflow.journal import JournalBackend

from .support import LLMS, Agent, Ask, Llm, Reminder, SetReminder, fired

pytestmark = pytest.mark.anyio


async def test_j10_compaction_keeps_states_pending_dead_timers_and_needed_steps(
    journal: JournalBackend,
) -> None:
    LLMS["compact"] = Llm()
    async with af.ActorSystem(journal=journal) as system:
        agent = await system.spawn(Agent, "compact", name="agent", max_attempts=1)
        for i in range(3):
            await agent.ask(Ask(f"q{i}"))
        reminder = await system.spawn(Reminder, name="rem")
        await reminder.ask(SetReminder("next week", 7 * 24 * 3600))
        dead = await system.spawn(Agent, "compact", name="dead", max_attempts=1)
        with pytest.raises(af.ActorFailed):
            await dead.ask(Ask("boom", fail_first=True), timeout=5)
        await system.wait_idle()
        done_before = [m.id for m in await journal.conversation("x")]  # nothing
        assert done_before == []
        result = await system.compact(dt.timedelta(0))
        # 3 asks + 1 timer setting done; the dead letter stays; 6 steps of done asks go. The
        # dead letter's 2 steps stay: it may be re-queued and run again.
        assert (result.messages, result.steps) == (4, 6)
        (letter,) = await journal.dead_letters()
        assert len(await journal.steps(letter.id)) == 2
        assert len(await journal.timers()) == 1
        assert [a.name for a in await journal.actors()] == ["agent", "rem", "dead"]
    async with af.ActorSystem(journal=journal) as system:  # recovery after compaction
        replies = await system.lookup("agent").ask(Ask("q3"))
        assert len(replies) == 8  # the state kept every reply
        again = await system.compact(dt.timedelta(0))
        assert (again.messages, again.steps) == (1, 2)


async def test_j10_compaction_leaves_what_is_newer_than_the_cutoff(
    journal: JournalBackend,
) -> None:
    LLMS["recent"] = Llm()
    async with af.ActorSystem(journal=journal) as system:
        agent = await system.spawn(Agent, "recent", name="agent")
        await agent.ask(Ask("q"))
        result = await system.compact(dt.timedelta(hours=1))
        assert (result.messages, result.steps) == (0, 0)
        assert (await system.compact(time.time() - 3600)).messages == 0
        cutoff = dt.datetime.now() + dt.timedelta(seconds=1)
        assert (await system.compact(cutoff)).messages == 1


async def test_j10_retention_compacts_by_itself(journal: JournalBackend) -> None:
    clock = testing.FakeClock(autojump=True)
    async with af.ActorSystem(journal=journal, clock=clock, retention=0.001) as system:
        ref = await system.spawn(Reminder, name="rem")
        await ref.tell(SetReminder("soon", 0.5), id="set")
        assert await fired(ref, 1) == ["soon"]
        await system.wait_idle()
        # Retention is wall-clock time; the task compacts every second of (fake) clock time.
        with anyio.fail_after(10):
            while await journal.conversation("set"):
                await ref.ask(Ask("?"))
                await clock.sleep(1)
        assert await journal.timers() == []


async def test_j10_bad_retention_is_refused() -> None:
    with pytest.raises(ValueError, match="retention must be a positive duration"):
        af.ActorSystem(retention=dt.timedelta(0))
