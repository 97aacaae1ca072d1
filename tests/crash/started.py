"""An app whose step marks its call started, and whose first attempt dies in that call (T2, S7).

``python -m tests.crash.started JOURNAL CALLS``: tells the payer one message (an idempotent
id), waits until it is handled or dead, then prints a JSON line: the dead letters of this run
(attempts and error) and the answer, if any. The step's function appends a line to CALLS each
time it makes its outside call; on the message's first attempt it then SIGKILLs the process,
as if it died while waiting for the answer. The payer has ``max_attempts=5``.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import actorflow as af


class Pay(af.Message, tag="crash_started.Pay"):
    amount: int


class Payer(af.Actor[None], kind="crash_started.Payer"):
    def __init__(self, calls: str) -> None:
        self.calls = calls

    async def on_pay(self, msg: Pay) -> str:
        return await self.ctx.step("pay", self.pay, msg.amount)

    async def pay(self, amount: int) -> str:
        await self.ctx.mark_step_started()  # a payment must not be made twice (T2)
        record(self.calls, f"pay {amount} (attempt {self.ctx.attempt})")
        if self.ctx.attempt == 1:
            os.kill(os.getpid(), signal.SIGKILL)  # the answer never arrives
        return f"paid {amount}"


def record(path: str, line: str) -> None:
    """The outside call's own record of itself, which no crash of the app can take back."""
    with open(path, "a") as calls:
        calls.write(line + "\n")


async def main(system: af.ActorSystem) -> None:
    payer = await system.spawn(Payer, sys.argv[2], name="payer", max_attempts=5)
    await payer.tell(Pay(5), id="pay-1")  # once, however often the app runs
    await system.wait_idle()
    dead = [{"attempts": d.attempts, "error": d.error} for d in system.dead_letters]
    print(json.dumps({"dead": dead}), flush=True)


if __name__ == "__main__":
    af.run(main, journal=sys.argv[1])
