"""R1 with the step options of T2 and O3: a step declared an LLM call (``llm=``) replays like
any other (the declaration is not one of the function's arguments), and a step recorded only as
started (its outside call's outcome unknown, T2) raises `StepOutcomeUnknown` in the replay as a
re-run in the runtime would, never calling the outside."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import actorflow as af
from actorflow import replay

pytestmark = pytest.mark.anyio

CALLS: list[str] = []
"""What the step functions were called with, to show a strict replay calls none of them."""


class Ask(af.Message, tag="replaymarks.Ask"):
    prompt: str


class Notes(af.State):
    answer: str = ""
    charge: str = ""


def model(prompt: str) -> str:
    CALLS.append(f"model {prompt}")
    return prompt.upper()


class Agent(af.Actor[Notes], kind="replaymarks.Agent"):
    async def on_ask(self, msg: Ask) -> None:
        self.state.answer = await self.ctx.step(
            "llm", model, msg.prompt, llm=af.LLMCall("tiny-1", "local")
        )

        async def charge() -> str:
            await self.ctx.mark_step_started()
            CALLS.append("charge")
            raise ConnectionError("lost on the way back")  # the outcome is unknown

        try:
            self.state.charge = await self.ctx.step("charge", charge)
        except ConnectionError:
            self.state.charge = "unknown"
        except af.StepOutcomeUnknown:  # what a re-run (and a replay) gets for the marked step
            self.state.charge = "unknown"


async def record(path: Path) -> None:
    async with af.ActorSystem(journal=path) as system:
        agent = await system.spawn(Agent, name="agent")
        await agent.tell(Ask("hello"), id="ask-1")
        await system.wait_idle()


async def test_r1_llm_steps_and_started_markers_replay_without_calling_out(
    tmp_path: Path,
) -> None:
    path = tmp_path / "marks.db"
    with anyio.fail_after(30):
        await record(path)
    assert CALLS == ["model hello", "charge"]
    CALLS.clear()

    with anyio.fail_after(30):
        report = await replay.replay(path, "ask-1")

    assert not report.diverged, report.render()
    assert CALLS == []  # neither the model nor the charge was called again


async def test_r1_a_live_llm_step_is_called_without_the_declaration_as_an_argument(
    tmp_path: Path,
) -> None:
    path = tmp_path / "marks.db"
    with anyio.fail_after(30):
        await record(path)
    CALLS.clear()

    with anyio.fail_after(30):
        report = await replay.replay(path, "ask-1", live={"llm"})

    assert CALLS == ["model hello"]  # called for real with its own argument only
    assert not report.diverged, report.render()
