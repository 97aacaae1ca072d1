"""A failure that another attempt cannot change ends its message as a dead letter at once (S7,
T2): `StepOutcomeUnknown` (and so `ToolOutcomeUnknown`) says ``retryable = False``, and so may
any exception class; the rest of S7 holds (logged once, counted, the asker told)."""

from __future__ import annotations

import logging

import pytest

import actorflow as af
from actorflow import testing
from actorflow.journal import JournalBackend

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

ATTEMPTS: list[int] = []


class Raise(af.Message, tag="not_retryable_test.Raise"):
    what: str  # "unknown", "own", "group", "plain"


class Unchangeable(Exception):
    """A user's error that says no other attempt can end otherwise."""

    retryable = False


class Raiser(af.Actor[None], kind="not_retryable_test.Raiser"):
    async def on_raise(self, msg: Raise) -> None:
        ATTEMPTS.append(self.ctx.attempt)
        if msg.what == "unknown":
            raise af.StepOutcomeUnknown("step 'pay' of raiser: lost", actor="raiser", step="pay")
        if msg.what == "own":
            raise Unchangeable("the order was cancelled outside")
        if msg.what == "group":
            raise ExceptionGroup("two steps", [ValueError("x"), Unchangeable("gone")])
        raise RuntimeError("try again")


async def ask_to_fail(system: af.ActorSystem, what: str) -> af.ActorFailed:
    raiser = await system.spawn(Raiser, name="raiser", max_attempts=5)
    with pytest.raises(af.ActorFailed) as failed:
        await raiser.ask(Raise(what), timeout=30)
    await testing.wait_idle(raiser)
    return failed.value


async def test_s7_step_outcome_unknown_dead_letters_its_message_on_the_first_attempt(
    journal: JournalBackend,
) -> None:
    ATTEMPTS.clear()
    async with af.ActorSystem(journal=journal) as system:
        with testing.capture_logs() as records:
            failure = await ask_to_fail(system, "unknown")
        assert isinstance(failure.__cause__, af.StepOutcomeUnknown)  # the asker is told
        (letter,) = system.dead_letters
        assert (letter.attempts, letter.reason, letter.id is not None) == (1, "failed", True)
        assert (letter.error or "").startswith("StepOutcomeUnknown: step 'pay' of raiser")
        stats = system.lookup("raiser").statistics()
        assert (stats.failed, stats.dead_letters) == (1, 1)
    assert ATTEMPTS == [1]  # max_attempts=5, yet no second attempt
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert "raiser dead-lettered Raise after 1 attempt(s): StepOutcomeUnknown" in errors[0]
    assert not [r for r in records if "retrying after restart" in r.getMessage()]
    await journal.open()
    try:
        (stored,) = await journal.dead_letters()  # what `actorflow journal dead` lists
    finally:
        await journal.close()
    assert stored.attempts == 1
    assert (stored.error or "").startswith("StepOutcomeUnknown: step 'pay' of raiser")
    assert "StepOutcomeUnknown" in (stored.traceback or "")


@pytest.mark.parametrize("what", ["unknown", "own", "group"])
async def test_s7_an_error_that_is_not_retryable_is_a_dead_letter_at_once_in_memory(
    what: str,
) -> None:
    ATTEMPTS.clear()
    async with af.ActorSystem() as system:
        failure = await ask_to_fail(system, what)
        (letter,) = system.dead_letters
    assert ATTEMPTS == [1]
    assert letter.attempts == 1
    expected = {"unknown": "StepOutcomeUnknown", "own": "Unchangeable", "group": "ExceptionGroup"}
    assert type(failure.__cause__).__name__ == expected[what]


async def test_s7_a_retryable_error_still_gets_every_attempt() -> None:
    ATTEMPTS.clear()
    root = af.Supervisor(name="root", max_restarts=10)  # four restarts, quickly
    async with af.ActorSystem(root=root, clock=testing.FakeClock(autojump=True)) as system:
        failure = await ask_to_fail(system, "plain")
        (letter,) = system.dead_letters
    assert isinstance(failure.__cause__, RuntimeError)
    assert ATTEMPTS == [1, 2, 3, 4, 5]
    assert letter.attempts == 5


def test_s7_retryable_is_a_class_attribute_of_the_errors() -> None:
    assert af.ActorflowError.retryable is True
    assert af.JournalError.retryable is True  # a failed commit may well succeed next time
    assert af.StepOutcomeUnknown.retryable is False
