"""`ask(m, timeout=...)` takes a finite positive number of seconds (A3); any other timeout is
refused at the asker, before anything is enqueued, journaled or handled (as M2 refuses a
message type the actor does not accept)."""

from __future__ import annotations

import math

import pytest

import actorflow as af
from actorflow import testing
from actorflow.journal import JournalBackend

from .support import each_journal as each_journal  # the `journal` fixture

pytestmark = pytest.mark.anyio


class Ping(af.Message, tag="test.a3timeout.Ping"):
    pass


class Ponger(af.Actor[None], kind="test.a3timeout.Ponger"):
    def on_ping(self, msg: Ping) -> str:
        return "pong"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("timeout", [math.nan, 0, -1, math.inf], ids=repr)
async def test_a3_ask_refuses_a_timeout_that_is_not_a_finite_positive_number(
    journal: JournalBackend | None, timeout: float
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        ref = await system.spawn(Ponger, name="ponger")  # durable with a journal
        await testing.wait_idle(system)
        before = system.journal_statistics()
        with pytest.raises(ValueError) as info:
            await ref.ask(Ping(), timeout=timeout)
        message = str(info.value)
        assert "timeout" in message, message
        assert repr(timeout) in message, message
        await testing.wait_idle(system)
        stats = ref.statistics()
        assert (stats.handled, stats.mailbox_depth, stats.failed) == (0, 0, 0), stats
        if journal is not None:
            assert system.journal_statistics() == before  # nothing was written
            assert await journal.pending("ponger") == []
        assert await ref.ask(Ping(), timeout=5) == "pong"  # a good timeout still works
