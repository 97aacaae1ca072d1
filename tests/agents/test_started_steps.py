"""Steps that must not be repeated (T2): a started marker, then `StepOutcomeUnknown` on a re-run
that finds it without a result; and `ctx.current_step`, the step's key (J4)."""

from __future__ import annotations

import pytest

import actorflow as af
from actorflow.journal import JournalBackend

pytestmark = pytest.mark.anyio

CALLS: list[str] = []


class Pay(af.Message, tag="started_test.Pay"):
    amount: int
    lose_first: bool = False


class Payer(af.Actor[None], kind="started_test.Payer"):
    async def on_pay(self, msg: Pay) -> str:
        return await self.ctx.step("pay", self.pay, msg)

    async def pay(self, msg: Pay) -> str:
        await self.ctx.mark_step_started()
        CALLS.append(f"{self.ctx.message_id}/{self.ctx.current_step}")
        if msg.lose_first and self.ctx.attempt == 1:
            raise ConnectionError("the answer was lost")
        return f"paid {msg.amount}"


async def test_t2_a_marked_step_whose_call_was_lost_is_never_called_again(
    journal: JournalBackend,
) -> None:
    CALLS.clear()
    async with af.ActorSystem(journal=journal) as system:
        payer = await system.spawn(Payer, name="payer")
        await payer.tell(Pay(5, lose_first=True), id="p-1")
        await system.wait_idle()
        (letter,) = system.dead_letters
    assert CALLS == ["p-1/pay"]  # once, though the message was tried twice
    # The first attempt lost the answer (a ConnectionError, retryable); the second found the
    # marker and raised StepOutcomeUnknown, which dead-letters at once (S7), not after three.
    assert letter.attempts == 2
    assert (letter.error or "").startswith("StepOutcomeUnknown: step 'pay' of payer")
    await journal.open()
    try:
        assert await journal.steps("p-1") == {"pay": b""}
    finally:
        await journal.close()


async def test_t2_a_marked_step_that_returns_is_recorded_over_its_marker(
    journal: JournalBackend,
) -> None:
    CALLS.clear()
    async with af.ActorSystem(journal=journal) as system:
        payer = await system.spawn(Payer, name="payer")
        assert await payer.ask(Pay(6)) == "paid 6"
        assert await payer.ask(Pay(7)) == "paid 7"
    assert [call.split("/")[1] for call in CALLS] == ["pay", "pay"]


async def test_t2_in_memory_marking_does_nothing_and_outside_a_step_it_is_an_error() -> None:
    CALLS.clear()
    async with af.ActorSystem() as system:
        payer = await system.spawn(Payer)
        assert await payer.ask(Pay(1)) == "paid 1"
        assert CALLS == ["None/pay"]  # no message id in memory; the step's name as its key
        marker = await system.spawn(MarksOutsideAStep, max_attempts=1)
        with pytest.raises(af.ActorFailed) as failed:
            await marker.ask(Pay(2))
    assert isinstance(failed.value.__cause__, af.ActorflowError)
    assert "inside a step's function" in str(failed.value.__cause__)


class MarksOutsideAStep(af.Actor[None]):
    async def on_pay(self, msg: Pay) -> None:
        assert self.ctx.current_step is None
        await self.ctx.mark_step_started()
