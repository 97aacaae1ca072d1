"""Supervision: a flaky tool actor under a rest-for-one supervisor, with a poison message.

A planner depends on a tool started before it; when the tool fails, rest_for_one restarts the
tool and everything started after it (the planner). A message that fails on every attempt
becomes a dead letter; the actor goes on with the next one.
"""

from __future__ import annotations

import logging

import tenacity

import actorflow as af


class Call(af.Message):
    query: str


class Plan(af.Message):
    goal: str


class Tool(af.Actor[None]):
    async def on_start(self) -> None:
        print(f"  tool started (restart #{self.ctx.restarts})")

    async def on_call(self, msg: Call) -> str:
        if msg.query == "poison":
            raise ValueError("the tool cannot parse 'poison'")
        return f"result for {msg.query}"


class Planner(af.Actor[None]):
    async def on_start(self) -> None:
        print(f"  planner started (restart #{self.ctx.restarts})")

    async def on_plan(self, msg: Plan) -> str:
        tool = self.ctx.system.lookup("tool")
        result = await tool.ask(Call(msg.goal))
        return f"plan for {msg.goal!r} using {result!r}"


team = af.Supervisor(
    name="team",
    strategy="rest_for_one",
    max_restarts=5,
    within=10.0,
    backoff=tenacity.wait_exponential_jitter(multiplier=0.01, max=0.5, jitter=0.01),
    children=[
        af.Child(Tool, name="tool", max_attempts=2),
        af.Child(Planner, name="planner"),
    ],
)


async def main(system: af.ActorSystem) -> None:
    await system.start(team)
    planner = system.lookup("planner")
    print(await planner.ask(Plan("write a haiku")))

    print("sending a poison message to the tool:")
    try:
        await system.lookup("tool").ask(Call("poison"))
    except af.ActorFailed as failure:
        print(f"  ask failed: {failure} (cause: {failure.__cause__!r})")
    await system.wait_idle()

    print(await planner.ask(Plan("write a sonnet")))
    for letter in system.dead_letters:
        print(f"dead letter: {letter.actor} {letter.message} after {letter.attempts} attempts")
    print(f"tool: {system.lookup('tool').statistics()}")


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR, format="  log: %(message)s")
    af.run(main)
