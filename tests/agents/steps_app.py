"""An app whose handler makes two steps; run by tests/agents/test_steps.py in a child process.

``python -m tests.agents.steps_app JOURNAL CALLS``: asks the agent once (an idempotent id) and
prints the answer. Every real call of the fake LLM appends a line to CALLS, so a test can count
them across SIGKILLs (``ACTORFLOW_CRASH_AT=step.after_record:N``).
"""

from __future__ import annotations

import sys

import actorflow as af


class Question(af.Message, tag="steps.Question"):
    text: str


class Memory(af.State):
    answers: list[str] = []


def fake_llm(calls: str, prompt: str) -> str:
    with open(calls, "a") as f:
        f.write(prompt + "\n")
    return f"answer to {prompt}"


class Agent(af.Actor[Memory], kind="steps.Agent"):
    def __init__(self, calls: str) -> None:
        self.calls = calls

    async def on_question(self, msg: Question) -> list[str]:
        draft = await self.ctx.step("draft", fake_llm, self.calls, msg.text)
        final = await self.ctx.step("review", fake_llm, self.calls, draft)
        self.state.answers.append(final)
        return self.state.answers


async def main(system: af.ActorSystem) -> None:
    agent = await system.spawn(Agent, sys.argv[2], name="agent")
    await agent.tell(Question("q1"), id="question-1")
    await system.wait_idle()
    print(await agent.ask(Question("q2")), flush=True)


if __name__ == "__main__":
    af.run(main, journal=sys.argv[1])
