"""R1, R2 property: for random deterministic actor programs, a strict replay of what they
recorded never diverges, whatever other conversations touched the same actors meanwhile."""

from __future__ import annotations

from typing import Literal

import anyio
import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

import actorflow as af
from actorflow import replay, testing
from actorflow.journal import MemoryJournal

NODES = ("p0", "p1", "p2")


class Instr(msgspec.Struct, frozen=True):
    kind: Literal["add", "step", "send", "timer"]
    n: int = 0
    to: int = 0
    program: list[Instr] = []


class Run(af.Message, tag="prop.Run"):
    program: list[Instr]


class Tally(af.State):
    total: int = 0
    log: list[int] = []


def compute(n: int, total: int) -> int:
    return n * 7 + total % 13


class Node(af.Actor[Tally], kind="prop.Node"):
    async def on_run(self, msg: Run) -> int:
        for instr in msg.program:
            if instr.kind == "add":
                self.state.total += instr.n
                self.state.log.append(instr.n)
            elif instr.kind == "step":
                result = await self.ctx.step(f"s{instr.n}", compute, instr.n, self.state.total)
                self.state.log.append(result)
            elif instr.kind == "send":
                await self.ctx.system.lookup(NODES[instr.to]).tell(Run(instr.program))
            else:
                await self.ctx.schedule(3600, Run([]), to=self.ctx.system.lookup(NODES[instr.to]))
        return self.state.total


leaf = st.builds(
    Instr,
    kind=st.sampled_from(["add", "step", "timer"]),
    n=st.integers(0, 3),
    to=st.integers(0, len(NODES) - 1),
)
instr = st.recursive(
    leaf,
    lambda inner: st.builds(
        Instr,
        kind=st.just("send"),
        to=st.integers(0, len(NODES) - 1),
        program=st.lists(inner, max_size=3),
    ),
    max_leaves=8,
)
programs = st.lists(st.lists(instr, max_size=4), min_size=1, max_size=3)


async def _record_and_replay(roots: list[list[Instr]]) -> list[replay.Replay]:
    journal = MemoryJournal()
    async with af.ActorSystem(journal=journal) as system:
        refs = [await system.spawn(Node, name=name) for name in NODES]
        for i, program in enumerate(roots):  # conversations run side by side
            await refs[i % len(refs)].tell(Run(program), id=f"root-{i}")
        await testing.wait_idle(system)
    await journal.open()
    try:
        return [await replay.replay(journal, f"root-{i}") for i in range(len(roots))]
    finally:
        await journal.close()


@settings(max_examples=40, deadline=None)
@given(programs)
def test_r2_strict_replay_of_a_deterministic_program_never_diverges(
    roots: list[list[Instr]],
) -> None:
    for report in anyio.run(_record_and_replay, roots):
        assert not report.diverged, report.render()
