"""Durable actors shared by the journal tests (message tags are global, so defined once)."""

from __future__ import annotations

import anyio

import actorflow as af


class Deposit(af.Message, tag="test.Deposit"):
    amount: int


class Balance(af.Message, tag="test.Balance"):
    pass


class Transfer(af.Message, tag="test.Transfer"):
    to: str
    amount: int
    fail_after_send: bool = False


class Hold(af.Message, tag="test.Hold"):
    """Handled by waiting on the account's gate, shared through `GATES`."""


class Ledger(af.State):
    balance: int = 0
    history: list[int] = []


GATES: dict[str, anyio.Event] = {}


class Account(af.Actor[Ledger], kind="test.Account"):
    def __init__(self, owner: str) -> None:
        self.owner = owner

    def on_deposit(self, msg: Deposit) -> int:
        self.state.balance += msg.amount
        self.state.history.append(msg.amount)
        return self.state.balance

    def on_balance(self, msg: Balance) -> Ledger:
        return self.state

    async def on_transfer(self, msg: Transfer) -> None:
        self.state.balance -= msg.amount
        await self.ctx.system.lookup(msg.to).tell(Deposit(msg.amount))
        if msg.fail_after_send:
            raise RuntimeError("failed after sending")

    async def on_hold(self, msg: Hold) -> None:
        await GATES[self.ctx.name].wait()
