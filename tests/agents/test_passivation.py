"""Passivation (J5): idle durable actors leave memory and come back on their next message."""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio
import pytest

import actorflow as af
from actorflow.journal import JournalBackend, MemoryJournal, MessageRecord

from .support import UNLOADED, HeldWriter, History, Remind, Say, Session, outside, unloaded

pytestmark = pytest.mark.anyio

IDLE = 0.02  # seconds: an actor idle this long is unloaded


async def spawn_and_unload(system: af.ActorSystem, name: str) -> af.ActorRef[Session]:
    UNLOADED[name] = anyio.Event()
    ref = await system.spawn(Session, name=name, passivate_after=IDLE)
    await ref.ask(Say("hello"))
    await unloaded(name)
    return ref


async def late_ask(ref: af.ActorRef[Any], outcome: list[BaseException]) -> None:
    """Ask `ref` something late; the `ActorStopped` it should hear goes into `outcome`."""
    try:
        await ref.ask(Say("late"), timeout=60)
    except af.ActorStopped as exc:
        outcome.append(exc)


async def wait_status(ref: af.ActorRef[Session], status: str) -> None:
    with anyio.fail_after(20):
        while ref.status != status:
            await anyio.lowlevel.checkpoint()


async def test_j5_an_idle_actor_is_unloaded_and_its_next_ask_sees_its_state(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        ref = await spawn_and_unload(system, "s1")
        await wait_status(ref, "passivated")
        assert system.actors() == []
        assert await ref.ask(Say("again")) == ["hello", "again"]  # through the same ref
        assert [r.name for r in system.actors()] == ["s1"]
        assert ref.statistics().status == "running"


async def test_j5_tells_and_messages_from_other_actors_bring_it_back(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        ref = await spawn_and_unload(system, "s2")
        await wait_status(ref, "passivated")
        UNLOADED["s2"] = anyio.Event()
        for text in ("a", "b", "c"):
            await ref.tell(Say(text))
        await unloaded("s2")  # handled them, then went idle again
        assert await ref.ask(Say("d")) == ["hello", "a", "b", "c", "d"]


async def test_j5_spawning_it_again_brings_it_back(journal: JournalBackend) -> None:
    async with af.ActorSystem(journal=journal) as system:
        ref = await spawn_and_unload(system, "s3")
        await wait_status(ref, "passivated")
        again = await system.spawn(Session, name="s3", passivate_after=IDLE)
        assert again == ref
        assert await again.ask(Say("back")) == ["hello", "back"]


async def test_j5_lookup_finds_a_passivated_actor_and_a_message_through_it_brings_it_back(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        ref = await spawn_and_unload(system, "s4")
        await wait_status(ref, "passivated")
        found = system.lookup("s4")
        assert found == ref
        assert found.status == "passivated"
        assert await found.ask(Say("found")) == ["hello", "found"]
        assert [r.name for r in system.actors()] == ["s4"]
    async with af.ActorSystem(journal=journal) as system:
        # Left in the journal by the last run: the error says how to bring it back.
        with pytest.raises(af.ActorNotFound, match=r"kind 'agents\.Session'.*spawned by name"):
            system.lookup("s4")
        with pytest.raises(af.ActorNotFound, match=r"^no live actor is called 'nobody'$"):
            system.lookup("nobody")


async def test_j5_a_restarted_system_leaves_idle_actors_in_the_journal(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        for i in range(20):
            await spawn_and_unload(system, f"chat-{i}")
    async with af.ActorSystem(journal=journal) as system:
        assert system.actors() == []  # none loaded at start
        ref = await system.spawn(Session, name="chat-7", passivate_after=IDLE)
        assert await ref.ask(Say("resumed")) == ["hello", "resumed"]
        assert [r.name for r in system.actors()] == ["chat-7"]


async def test_j5_a_timer_brings_a_passivated_actor_back(journal: JournalBackend) -> None:
    async with af.ActorSystem(journal=journal) as system:
        ref = await spawn_and_unload(system, "s4")
        await wait_status(ref, "passivated")
        UNLOADED["s4"] = anyio.Event()
        await system.schedule(0.0, Remind("wake up"), to=ref)
        await unloaded("s4")  # came back, handled it, went idle again
        assert await ref.ask(Say("x")) == ["hello", "reminder: wake up", "x"]


async def test_j5_an_outside_message_brings_back_an_actor_nobody_holds() -> None:
    journal = MemoryJournal()
    async with af.ActorSystem(journal=journal) as system:
        await spawn_and_unload(system, "s5")
    async with af.ActorSystem(journal=journal) as system:
        assert system.actors() == []
        UNLOADED["s5"] = anyio.Event()
        journal.append_outside(outside("ping", recipient="s5"))
        await unloaded("s5")
        ref = await system.spawn(Session, name="s5", passivate_after=IDLE)
        assert await ref.ask(Say("x")) == ["hello", "reminder: from outside", "x"]


async def test_j5_an_actor_with_messages_queued_is_not_unloaded(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Session, name="busy", passivate_after=3600)
        for i in range(50):
            await ref.tell(Say(str(i)))
        assert len(await ref.ask(Say("last"))) == 51
        assert ref.status == "running"


async def test_j5_passivate_after_must_be_positive() -> None:
    with pytest.raises(af.DefinitionError, match="passivate_after must be > 0"):
        af.Child(Session, name="x", passivate_after=0)


async def test_j5_a_system_stopping_while_an_actor_unloads_loses_nothing_and_does_not_hang(
    journal: JournalBackend,
) -> None:
    """A message reaches an actor in the middle of unloading (its on_stop still running) just
    as the system stops: the message stays pending, its asker hears ActorStopped, the system
    stops (it does not wait for ever to bring the actor back), and the next start handles it."""
    entered, gate = anyio.Event(), anyio.Event()

    class Slow(af.Actor[History], kind="agents.SlowToUnload"):
        def on_say(self, msg: Say) -> list[str]:
            self.state.said.append(msg.text)
            return self.state.said

        async def on_stop(self) -> None:
            entered.set()
            await gate.wait()  # held until the shutdown timeout cancels it

    outcome: list[BaseException] = []

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg, af.ActorSystem(journal=journal) as system:
            ref = await system.spawn(Slow, name="slow", passivate_after=IDLE, shutdown_timeout=0.2)
            await ref.ask(Say("hi"))
            await entered.wait()  # unloading: on_stop runs
            tg.start_soon(late_ask, ref, outcome)
            await ref.tell(Say("also late"))  # committed, held for the next incarnation
            await anyio.wait_all_tasks_blocked()
    assert len(outcome) == 1
    async with af.ActorSystem(journal=journal) as system:
        again = await system.spawn(Slow, name="slow", passivate_after=3600)
        said = await again.ask(Say("next"))
    assert said[0] == "hi"
    assert sorted(said[1:]) == ["also late", "late", "next"]


async def test_j5_a_message_committed_but_not_yet_delivered_when_it_comes_back_is_handled_once(
    journal: JournalBackend,
) -> None:
    """A message whose commit has landed but whose delivery has not run yet when a passivated
    actor comes back: the journal already says it is pending, and its delivery is on its way.
    Coming back must not take it from both (J5, J3: handled once). The writer is held right
    after that commit, so the race is forced rather than left to timing."""
    read = anyio.Event()
    reading = False
    pending = journal.pending

    async def watched_pending(*args: Any, **kwargs: Any) -> list[MessageRecord]:
        nonlocal reading
        reading = True
        try:
            return await pending(*args, **kwargs)
        finally:
            read.set()

    async with anyio.create_task_group() as tg, af.ActorSystem(journal=journal) as system:
        ref = await spawn_and_unload(system, "s6")
        await wait_status(ref, "passivated")
        held = HeldWriter(journal, lambda record: record.id == "in-flight")
        journal.pending = watched_pending  # type: ignore[method-assign]
        tg.start_soon(partial(ref.tell, Say("b"), id="in-flight"))
        await held.committed.wait()
        tg.start_soon(partial(system.spawn, Session, name="s6", passivate_after=3600))
        await anyio.wait_all_tasks_blocked()  # coming back: reading the journal, or waiting to
        if reading:
            await read.wait()  # it read the journal while the delivery was still on its way
        held.released.set()
        assert await ref.ask(Say("c")) == ["hello", "b", "c"]


async def test_j5_an_ask_reaching_a_passivated_actor_as_the_system_stops_hears_actor_stopped(
    journal: JournalBackend,
) -> None:
    """The ask's message commits while the system is stopping, so its actor cannot come back:
    the asker hears ActorStopped at once (not a timeout), and the message stays pending for the
    next start (S8, J5)."""
    outcome: list[BaseException] = []

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            system = af.ActorSystem(journal=journal)
            async with system:
                ref = await spawn_and_unload(system, "s7")
                await wait_status(ref, "passivated")
                held = HeldWriter(journal, lambda record: record.recipient == "s7")
                tg.start_soon(late_ask, ref, outcome)
                await held.committed.wait()
                tg.start_soon(system.stop)
                await anyio.wait_all_tasks_blocked()  # stopping: waits for the held commit
                held.released.set()
        assert [type(exc) for exc in outcome] == [af.ActorStopped]
    held.undo()
    async with af.ActorSystem(journal=journal) as system:
        again = await system.spawn(Session, name="s7", passivate_after=IDLE)
        assert await again.ask(Say("next")) == ["hello", "late", "next"]
