"""An application for `actorflow run` whose desk works on one job at a time, printing as it goes.

Started by tests/cli/test_cancel.py: job 0 waits until the switch gets `Release`, so what is
sent to the desk meanwhile waits in its mailbox, where `actorflow journal cancel` reaches it.
"""

from __future__ import annotations

import anyio

import actorflow as af

RELEASED: list[anyio.Event] = []


class Work(af.Message, tag="desk.Work"):
    n: int


class Release(af.Message, tag="desk.Release"):
    pass


class Desk(af.Actor[af.State], kind="desk.Desk"):
    async def on_work(self, msg: Work) -> None:
        print(f"started {msg.n}", flush=True)
        if msg.n == 0:
            await RELEASED[0].wait()
        print(f"done {msg.n}", flush=True)


class Switch(af.Actor[af.State], kind="desk.Switch"):
    def on_release(self, msg: Release) -> None:
        RELEASED[0].set()


async def main(system: af.ActorSystem) -> None:
    RELEASED[:] = [anyio.Event()]
    await system.spawn(Desk, name="desk")
    await system.spawn(Switch, name="switch")
    print("ready", flush=True)
    await anyio.sleep_forever()
