"""Steps (J4): outside side effects run once per message, recorded, replayed on a re-run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import msgspec
import pytest

import actorflow as af
from actorflow.journal import JournalBackend

from .support import LLMS, Agent, Ask, BlockingAgent, Llm, Reply, RetryingAgent, Unrecordable

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).parents[2]


async def test_j4_a_step_is_not_called_again_when_its_message_is_retried(
    journal: JournalBackend,
) -> None:
    llm = LLMS["retried"] = Llm()
    async with af.ActorSystem(journal=journal) as system:
        agent = await system.spawn(Agent, "retried", name="agent")
        replies = await agent.ask(Ask("hi", fail_first=True))
    # The first attempt made both calls and failed; the second replayed them.
    assert llm.calls == ["hi", "re: hi"]
    assert replies == ["re: hi", "re: re: hi"]


async def test_j4_steps_of_one_name_are_told_apart_by_order(journal: JournalBackend) -> None:
    LLMS["order"] = Llm()
    async with af.ActorSystem(journal=journal) as system:
        agent = await system.spawn(Agent, "order", name="agent")
        await agent.tell(Ask("hi"), id="m-1")
        await system.wait_idle()
        recorded = await journal.steps("m-1")
    assert {step: msgspec.msgpack.decode(data) for step, data in recorded.items()} == {
        "complete": {"text": "re: hi", "tokens": 2},
        "complete#2": {"text": "re: re: hi", "tokens": 6},
    }


async def test_j4_a_replayed_result_has_the_type_fn_returns(journal: JournalBackend) -> None:
    llm = LLMS["typed"] = Llm()
    seen: list[object] = []

    class Typed(af.Actor[None], kind="agents.Typed"):
        async def on_ask(self, msg: Ask) -> None:
            seen.append(await self.ctx.step("complete", llm.complete, msg.prompt))
            if self.ctx.attempt == 1:
                raise RuntimeError("again")

    async with af.ActorSystem(journal=journal) as system:
        typed = await system.spawn(Typed, name="typed")
        await typed.ask(Ask("x"))
    assert seen == [Reply("re: x", 1), Reply("re: x", 1)]  # a Reply both times, not a dict
    assert all(type(reply) is Reply for reply in seen)
    assert llm.calls == ["x"]


async def test_j4_a_step_retries_its_function_under_its_own_policy(
    journal: JournalBackend,
) -> None:
    llm = LLMS["flaky"] = Llm(failures=2)
    async with af.ActorSystem(journal=journal) as system:
        agent = await system.spawn(RetryingAgent, "flaky", name="agent")
        assert await agent.ask(Ask("hi")) == "re: hi"
        assert agent.statistics().failed == 0  # the retries were the step's, not the actor's
    assert llm.calls == ["hi", "hi", "hi"]


async def test_j4_a_plain_function_runs_in_a_worker_thread(journal: JournalBackend) -> None:
    llm = LLMS["blocking"] = Llm()
    async with af.ActorSystem(journal=journal) as system:
        agent = await system.spawn(BlockingAgent, "blocking", name="agent")
        assert await agent.ask(Ask("hi")) == "blocking re: hi"
    assert threading.get_ident() not in llm.threads


async def test_j4_a_result_that_cannot_be_recorded_fails_before_anything_is_recorded(
    journal: JournalBackend,
) -> None:
    async with af.ActorSystem(journal=journal) as system:
        agent = await system.spawn(Unrecordable, name="agent", max_attempts=1)
        with pytest.raises(af.ActorFailed) as failed:
            await agent.ask(Ask("x"))
        (letter,) = system.dead_letters
        assert letter.id is not None
        assert await journal.steps(letter.id) == {}
    assert isinstance(failed.value.__cause__, af.EncodeError)
    assert "step 'socket' of agent returned lock, which cannot be recorded" in str(
        failed.value.__cause__
    )


async def test_j4_in_memory_actors_call_steps_plainly() -> None:
    llm = LLMS["memory"] = Llm()
    async with af.ActorSystem() as system:
        agent = await system.spawn(Agent, "memory")
        await agent.ask(Ask("hi", fail_first=True))
    assert llm.calls == ["hi", "re: hi", "hi", "re: hi"]  # nothing recorded: called again


async def test_j4_a_step_outside_a_handler_is_refused(journal: JournalBackend) -> None:
    class Early(af.Actor[None], kind="agents.Early"):
        async def on_start(self) -> None:
            await self.ctx.step("too early", Llm().complete, "x")

        def on_ask(self, msg: Ask) -> None: ...

    async with af.ActorSystem(journal=journal) as system:
        with pytest.raises(af.StartFailed) as failed:
            await system.spawn(Early, name="early")
    assert "steps run inside a message handler" in str(failed.value.__cause__)


@pytest.mark.parametrize("kill_at", [1, 2])
def test_j4_steps_are_not_repeated_after_a_sigkill_before_the_commit(
    tmp_path: Path, kill_at: int
) -> None:
    """SIGKILL after the n-th step's result is committed, before its message's commit: the
    run after it calls the LLM only for the steps not recorded yet."""
    journal, calls = tmp_path / "j.db", tmp_path / "calls.txt"
    command = [sys.executable, "-m", "tests.agents.steps_app", str(journal), str(calls)]
    env = {**os.environ, "ACTORFLOW_CRASH_AT": f"step.after_record:{kill_at}"}
    killed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=30)
    assert killed.returncode == -9, killed.stderr.decode()
    env.pop("ACTORFLOW_CRASH_AT")
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=30, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "['answer to answer to q1', 'answer to answer to q2']\n"
    # Each prompt went to the fake LLM exactly once, across the kill.
    assert calls.read_text().splitlines() == ["q1", "answer to q1", "q2", "answer to q2"]
