"""Human in the loop: an expense agent waits for a person's approval.

Expenses over the limit wait for a decision that a person sends from another terminal with
`actorflow send` (J11). A durable timer (J6) escalates the request if nobody answers in time:
it survives restarts, so a request escalates even if the process was down when it came due.

    APPROVAL_WAIT_SECONDS=120 actorflow run examples.approval:main --journal approval.db
    # in another terminal, before the two minutes are up:
    actorflow send expenses approval.Decision \\
        '{"request": "exp-1", "approved": true, "by": "dana"}' --journal approval.db
"""

from __future__ import annotations

import os
import sys
from typing import Literal

import anyio
import msgspec

import actorflow as af

LIMIT = 100.0  # expenses up to this are approved without asking anyone


class Expense(af.Message, tag="approval.Expense"):
    id: str
    amount: float
    what: str


class Decision(af.Message, tag="approval.Decision"):
    request: str
    approved: bool
    by: str


class Escalate(af.Message, tag="approval.Escalate"):
    request: str


class Status(af.Message, tag="approval.Status"):
    request: str


class Request(msgspec.Struct):
    amount: float
    what: str
    status: Literal["waiting", "approved", "rejected", "escalated"] = "waiting"
    decided_by: str = ""
    timer: str | None = None


class Requests(af.State):
    by_id: dict[str, Request] = {}


DECIDED = anyio.Event()  # set when a request is decided (main waits on it)


class ExpenseAgent(af.Actor[Requests], kind="approval.ExpenseAgent"):
    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds

    async def on_expense(self, msg: Expense) -> None:
        if msg.id in self.state.by_id:
            return  # sent again after a restart: already on file
        request = self.state.by_id[msg.id] = Request(msg.amount, msg.what)
        if msg.amount <= LIMIT:
            request.status, request.decided_by = "approved", "policy"
            DECIDED.set()
            return
        # Stored with this handler's commit: it fires once, after restarts too.
        request.timer = await self.ctx.schedule(self.wait_seconds, Escalate(msg.id))

    async def on_decision(self, msg: Decision) -> None:
        request = self.state.by_id.get(msg.request)
        if request is None or request.status != "waiting":
            return  # unknown, or decided already (escalated first, say)
        if request.timer is not None:
            await self.ctx.cancel_timer(request.timer)
        request.status = "approved" if msg.approved else "rejected"
        request.decided_by = msg.by
        DECIDED.set()

    def on_escalate(self, msg: Escalate) -> None:
        request = self.state.by_id.get(msg.request)
        if request is not None and request.status == "waiting":
            request.status, request.decided_by = "escalated", "timer"
            DECIDED.set()

    def on_status(self, msg: Status) -> Request | None:
        return self.state.by_id.get(msg.request)


async def main(system: af.ActorSystem) -> None:
    wait = float(os.environ.get("APPROVAL_WAIT_SECONDS", "2"))
    agent = await system.spawn(ExpenseAgent, wait, name="expenses")
    await agent.tell(Expense("exp-1", 450.0, "conference ticket"), id="exp-1")
    request = await agent.ask(Status("exp-1"), expect=Request)
    if request.status == "waiting":
        print(
            "exp-1 waits for approval; answer with: actorflow send expenses approval.Decision"
            ' \'{"request": "exp-1", "approved": true, "by": "you"}\'',
            flush=True,
        )
        while (request := await agent.ask(Status("exp-1"), expect=Request)).status == "waiting":
            await DECIDED.wait()
    print(f"exp-1: {request.status} by {request.decided_by}")


if __name__ == "__main__":
    af.run(main, journal=sys.argv[1] if len(sys.argv) > 1 else "approval.db")
