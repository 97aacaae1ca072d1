"""The quick start: a typed agent actor, told and asked, supervised, in memory.

Run it with `python examples/hello.py` where actorflow is installed (after `make demo` or
`make test`: `.venv/bin/python examples/hello.py`).
"""

from __future__ import annotations

import actorflow as af


class Ask(af.Message):
    question: str


class Answer(af.Message):
    text: str
    turn: int


class Forget(af.Message):
    pass


class ChatState(af.State):
    history: list[str] = []


class Agent(af.Actor[ChatState]):
    """Answers questions and remembers them, one message at a time."""

    async def on_ask(self, msg: Ask) -> Answer:
        self.state.history.append(msg.question)
        return Answer(f"you asked {msg.question!r}", turn=len(self.state.history))

    def on_forget(self, msg: Forget) -> None:
        self.state.history.clear()


async def main(system: af.ActorSystem) -> None:
    agent = await system.spawn(Agent, name="agent/42")
    for question in ["hi", "what is an actor?"]:
        answer = await agent.ask(Ask(question), expect=Answer)
        print(f"{answer.turn}: {answer.text}")
    await agent.tell(Forget())
    print(await agent.ask(Ask("anyone there?"), timeout=1.0))
    print(agent)


if __name__ == "__main__":
    af.run(main)
