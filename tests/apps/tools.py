"""An application for `actorflow mcp serve`, driven by tests/mcp_serve/test_serve.py (T3).

Four durable actors with marked handlers: a planner (`plan`), one that always fails (`fail`), a
slow one that waits until the gate opens (`wait_for_gate`), and the gate (`open_gate`); plus a
counter whose handler is not marked and so is not served.
"""

from __future__ import annotations

import anyio

import actorflow as af
from actorflow.mcp import tool


class Plan(af.Message, tag="tools.Plan"):
    topic: str
    depth: int = 2


class Steps(af.Message, tag="tools.Steps"):
    topic: str
    steps: list[str]


class Boom(af.Message, tag="tools.Boom"):
    reason: str


class Wait(af.Message, tag="tools.Wait"):
    pass


class Open(af.Message, tag="tools.Open"):
    pass


class Count(af.Message, tag="tools.Count"):
    pass


class Handled(af.State):
    plans: int = 0


class Planner(af.Actor[Handled], kind="tools.Planner"):
    @tool
    def on_plan(self, msg: Plan) -> Steps:
        """Break a topic into research steps."""
        self.state.plans += 1
        steps = [f"{msg.topic}: question {n}" for n in range(1, msg.depth + 1)]
        return Steps(msg.topic, steps)


class Failing(af.Actor[None], kind="tools.Failing"):
    @tool(name="fail")
    def on_boom(self, msg: Boom) -> str:
        """Fail, always, with the reason given."""
        raise RuntimeError(msg.reason)


# One event for the two actors below: they live in one process, the server's.
GATE = anyio.Event()


class Slow(af.Actor[None], kind="tools.Slow"):
    @tool(name="wait_for_gate")
    async def on_wait(self, msg: Wait) -> str:
        """Reply once the gate is open."""
        await GATE.wait()
        return "the gate is open"


class Gate(af.Actor[None], kind="tools.Gate"):
    @tool(name="open_gate", actor="gate")
    def on_open(self, msg: Open) -> None:
        """Open the gate."""
        GATE.set()


class Counter(af.Actor[Handled], kind="tools.Counter"):
    def on_count(self, msg: Count) -> int:
        return self.state.plans


async def main(system: af.ActorSystem) -> None:
    await system.spawn(Planner, name="planner")
    await system.spawn(Failing, name="failing", max_attempts=1)
    await system.spawn(Slow, name="slow")
    await system.spawn(Gate, name="gate")
    await system.spawn(Counter, name="counter")


async def broken(system: af.ActorSystem) -> None:
    """A setup that fails: the server says so in one line and exits 1."""
    await system.spawn(Planner, name="planner")
    raise LookupError("no model configured")
