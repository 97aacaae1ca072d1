"""Cancelling from outside (``actorflow journal cancel``) while a system runs (J11, J3, J5, J6).

A real `ActorSystem` on a SQLite journal; the `Gated` actor blocks its first message on a gate,
so the messages behind it wait in its mailbox. The cancel is the journal operation, run in a
thread as another process would run it, and it wakes the system through the journal's wake
socket: with the once-a-second check turned off, only that wake-up can make the system notice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, ClassVar

import anyio
import pytest

import actorflow as af
from actorflow.durable import DurableCell, _outside
from actorflow.journal import Batch, Cancelled, MemoryJournal, MessageRecord, SQLiteJournal, cancel

pytestmark = pytest.mark.anyio


class Work(af.Message, tag="cancel.Work"):
    n: int


class Fan(af.Message, tag="cancel.Fan"):
    """Sends Work(1..count) to the gated actor and sets a timer for it, in one turn."""

    count: int
    timer_in: float = 3600.0


class Handled(af.State):
    done: list[int] = []


class Gated(af.Actor[Handled], kind="cancel.Gated"):
    gate: ClassVar[anyio.Event]
    entered: ClassVar[anyio.Event]
    seen: ClassVar[list[int]] = []  # every handler run, in order, across systems

    async def on_work(self, msg: Work) -> list[int]:
        type(self).seen.append(msg.n)
        if msg.n == 0:
            type(self).entered.set()
            await type(self).gate.wait()
        self.state.done.append(msg.n)
        return self.state.done


class Fanner(af.Actor[af.State], kind="cancel.Fanner"):
    async def on_fan(self, msg: Fan) -> str:
        gated = self.ctx.system.lookup("gated")
        for n in range(1, msg.count + 1):
            await gated.tell(Work(n))
        return await self.ctx.schedule(msg.timer_in, Work(99), to=gated)


@pytest.fixture
async def gates() -> AsyncIterator[None]:
    Gated.gate, Gated.entered, Gated.seen = anyio.Event(), anyio.Event(), []
    yield
    Gated.gate.set()


@pytest.fixture(autouse=True)
def only_wake_ups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_outside, "CHECK_SECONDS", 3600.0)


async def cancel_from_outside(path: Path, **target: str) -> Cancelled:
    """The operation as the CLI runs it, in its own connection; it wakes the system."""

    def run() -> Cancelled:
        return cancel(path, by="tester via test", **target)  # type: ignore[arg-type]

    return await anyio.to_thread.run_sync(run)


def cell_of(system: af.ActorSystem, name: str) -> DurableCell:
    durability = system._services.durability
    assert durability is not None
    cell = durability.recovery.tree.find(name)
    assert isinstance(cell, DurableCell)
    return cell


async def fan_out(system: af.ActorSystem, fanner: af.ActorRef[Any]) -> str:
    """Conversation "fan": Work(1..3) to the gated actor's mailbox and a timer; its id."""
    await fanner.tell(Fan(3), id="fan")
    await until(lambda: len(cell_of(system, "gated").mailbox) == 3)
    await until(lambda: len(system._services.timers.armed()) == 1)
    (timer_id,) = system._services.timers.armed()
    return timer_id


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll a real signal (what the writer changed in a cell, or the armed timers: nothing
    sets an event for them) with a deadline; the test's timeout is the backstop."""
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110  # no event to wait on: polled, bounded
            await anyio.sleep(0.005)


async def statuses(path: Path, *ids: str) -> dict[str, Any]:
    backend = SQLiteJournal(path)
    await backend.open()
    try:
        found = {i: await backend.message(i) for i in ids}
        return {i: (m.status, m.cancelled_by) if m else None for i, m in found.items()}
    finally:
        await backend.close()


async def test_j11_a_cancelled_conversation_waiting_in_a_mailbox_is_never_handled(
    tmp_path: Path, gates: None
) -> None:
    path = tmp_path / "j.db"
    async with af.ActorSystem(journal=path) as system:
        gated = await system.spawn(Gated, name="gated")
        fanner = await system.spawn(Fanner, name="fanner")
        await gated.tell(Work(0), id="w0")  # its own conversation: it runs and blocks
        await Gated.entered.wait()
        timer_id = await fan_out(system, fanner)
        cell = cell_of(system, "gated")
        waiting = [e.id for e in cell.mailbox]
        assert len(waiting) == 3

        done = await cancel_from_outside(path, conversation="fan")
        assert done.woken
        assert [m.id for m in done.messages] == waiting
        assert [t.id for t in done.timers] == [timer_id]
        assert done.statuses == {"done": 1, "pending": 3}  # the Fan itself was handled
        # Noticed through the wake-up alone: held as cancelled, the timer disarmed.
        await until(lambda: set(cell.cancelled) == set(waiting))
        assert timer_id not in system._services.timers.armed()

        Gated.gate.set()
        await system.wait_idle()
        assert cell.cancelled == {}
        final = await gated.ask(Work(7), expect=list)
        assert final == [0, 7]  # 1, 2, 3 and the timer's 99 were never handled
    found = await statuses(path, "w0", timer_id, *[i for i in waiting if i])
    assert found.pop("w0") == ("done", None)
    assert set(found.values()) == {("cancelled", "tester via test")}


async def test_j11_an_asker_of_a_cancelled_message_hears_message_cancelled(
    tmp_path: Path, gates: None
) -> None:
    path = tmp_path / "j.db"
    async with af.ActorSystem(journal=path) as system:
        gated = await system.spawn(Gated, name="gated")
        await gated.tell(Work(0), id="w0")
        await Gated.entered.wait()
        async with anyio.create_task_group() as tg:
            outcome: list[BaseException | object] = []

            async def ask() -> None:
                try:
                    outcome.append(await gated.ask(Work(1)))
                except af.MessageCancelled as exc:
                    outcome.append(exc)

            tg.start_soon(ask)
            cell = cell_of(system, "gated")
            await until(lambda: len(cell.mailbox) == 1)
            (w1,) = [e.id for e in cell.mailbox]
            assert w1 is not None
            done = await cancel_from_outside(path, message_id=w1)
            assert (done.kind, [m.id for m in done.messages]) == ("message", [w1])
            await until(lambda: w1 in cell.cancelled)
            Gated.gate.set()
        (error,) = outcome
        assert isinstance(error, af.MessageCancelled)
        assert (error.actor, error.message_id) == ("gated", w1)
        assert "cancelled by tester via test" in str(error)
        assert await gated.ask(Work(2), expect=list) == [0, 2]


async def test_j11_the_asker_of_a_queued_message_hears_of_its_cancel_while_the_actor_is_busy(
    tmp_path: Path, gates: None
) -> None:
    """A cancelled message in the mailbox will never be handled, so its asker is told when the
    system notices the cancel, not when the actor gets to the message (here: never, while the
    handler before it is still running)."""
    path = tmp_path / "j.db"
    async with af.ActorSystem(journal=path) as system:
        gated = await system.spawn(Gated, name="gated")
        await gated.tell(Work(0), id="w0")
        await Gated.entered.wait()
        async with anyio.create_task_group() as tg:
            outcome: list[BaseException | object] = []

            async def ask() -> None:
                try:
                    outcome.append(await gated.ask(Work(1)))
                except af.MessageCancelled as exc:
                    outcome.append(exc)

            tg.start_soon(ask)
            cell = cell_of(system, "gated")
            await until(lambda: len(cell.mailbox) == 1)
            (w1,) = [e.id for e in cell.mailbox]
            await cancel_from_outside(path, message_id=str(w1))
            await until(lambda: bool(outcome))  # the gate is still shut: w0 is being handled
            assert not Gated.gate.is_set()
            (error,) = outcome
            assert isinstance(error, af.MessageCancelled)
            assert error.message_id == w1
            Gated.gate.set()
        assert await gated.ask(Work(2), expect=list) == [0, 2]  # w1 was dropped, not handled


async def test_j3_a_message_whose_handler_runs_at_the_cancel_finishes_and_ends_done(
    tmp_path: Path, gates: None
) -> None:
    path = tmp_path / "j.db"
    async with af.ActorSystem(journal=path) as system:
        gated = await system.spawn(Gated, name="gated")
        await gated.tell(Work(0), id="w0")
        await Gated.entered.wait()
        done = await cancel_from_outside(path, message_id="w0")
        assert [m.attempts for m in done.messages] == [1]  # started: reported as such
        assert [m.id for m in done.started] == ["w0"]
        cell = cell_of(system, "gated")
        await until(lambda: "w0" in cell.cancelled)
        Gated.gate.set()
        await system.wait_idle()
        assert await gated.ask(Work(1), expect=list) == [0, 1]
    backend = SQLiteJournal(path)
    await backend.open()
    try:
        w0 = await backend.message("w0")
        assert w0 is not None
        # Its turn committed whole (J3): done, and the cancel that came too late is recorded.
        assert (w0.status, w0.cancelled_by) == ("done", "tester via test")
        assert w0.cancelled_at is not None
        assert w0.done_at is not None
        actor = await backend.actor("gated")
        assert actor is not None
        assert actor.handled == 2
    finally:
        await backend.close()


async def test_j6_a_cancelled_timer_does_not_fire(tmp_path: Path, gates: None) -> None:
    path = tmp_path / "j.db"
    Gated.gate.set()
    async with af.ActorSystem(journal=path) as system:
        gated = await system.spawn(Gated, name="gated")
        first = await system.schedule(0.5, Work(1), to=gated)
        done = await cancel_from_outside(path, message_id=first)
        assert (done.kind, [t.id for t in done.timers]) == ("timer", [first])
        await until(lambda: first not in system._services.timers.armed())
        # A later timer fires; the cancelled one, due before it, never did.
        await system.schedule(0.6, Work(2), to=gated)
        await until(lambda: 2 in Gated.seen)
        assert await gated.ask(Work(3), expect=list) == [2, 3]
        assert Gated.seen == [2, 3]
    assert await statuses(path, first) == {first: ("cancelled", "tester via test")}


async def test_j5_a_system_started_on_cancelled_messages_does_not_restore_them(
    tmp_path: Path, gates: None
) -> None:
    path = tmp_path / "j.db"
    async with af.ActorSystem(journal=path) as system:
        gated = await system.spawn(Gated, name="gated", shutdown_timeout=0.05)
        fanner = await system.spawn(Fanner, name="fanner")
        await gated.tell(Work(0), id="w0")
        await Gated.entered.wait()
        timer_id = await fan_out(system, fanner)
    # Stopped with w0's handler cut off: w0, Work(1..3) and the timer stay pending. Cancel the
    # conversation while no system runs; then start one.
    done = await cancel_from_outside(path, conversation="fan")
    assert (len(done.messages), [t.id for t in done.timers]) == (3, [timer_id])
    assert not done.woken  # nothing runs on it
    Gated.gate.set()
    Gated.seen = []
    async with af.ActorSystem(journal=path) as system:
        assert timer_id not in system._services.timers.armed()
        await system.wait_idle()
        assert await system.lookup("gated").ask(Work(7), expect=list) == [0, 7]
        assert Gated.seen == [0, 7]  # w0 again (it never committed); 1..3 never


async def test_j5_a_cancel_noticed_while_an_actor_restores_is_not_lost(gates: None) -> None:
    """The race the writer's ordering leaves: an actor's restore read the journal just before
    the cancel committed, and the notice is taken before the restore has filled the mailbox."""
    Gated.gate.set()
    journal = MemoryJournal()
    body = af.Codec(Work).encode(Work(5))
    await journal.open()
    await journal.write(Batch(appends=[MessageRecord("m-late", "late", "cancel.Work", body)]))
    await journal.close()
    async with af.ActorSystem(journal=journal) as system:
        durability = system._services.durability
        assert durability is not None
        read_pending = journal.pending

        async def pending_then_cancelled(*args: Any, **kwargs: Any) -> list[MessageRecord]:
            rows = await read_pending(*args, **kwargs)
            if [r.id for r in rows] == ["m-late"]:  # the restore's read: cancel right after it
                assert journal.cancel_outside(["m-late"], by="racer", at=1.0) == ["m-late"]
                durability._take_in(await journal.take_notices())
            return rows

        journal.pending = pending_then_cancelled  # type: ignore[method-assign]
        late = await system.spawn(Gated, name="late")  # restores from the journal (J5)
        assert await late.ask(Work(6), expect=list) == [6]
        assert Gated.seen == [6]
        assert cell_of(system, "late").cancelled == {}
    found = await journal.message("m-late")
    assert found is not None
    assert (found.status, found.cancelled_by) == ("cancelled", "racer")
