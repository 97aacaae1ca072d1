"""An application for `actorflow run` whose durable inbox prints every letter it takes.

Started by tests/cli/test_send_live.py, which sends it letters with `actorflow send` and
requeues dead ones with `actorflow journal requeue` while it runs (J11), and reads its stdout
to see them handled. `FAILING` is for the test that builds a dead letter in its own process.
"""

from __future__ import annotations

import anyio

import actorflow as af

FAILING: dict[str, bool] = {"on": False}


class Letter(af.Message, tag="inbox.Letter"):
    text: str


class Letters(af.State):
    texts: list[str] = []


class Inbox(af.Actor[Letters], kind="inbox.Inbox"):
    def on_letter(self, msg: Letter) -> None:
        if FAILING["on"]:
            raise RuntimeError(f"cannot take {msg.text!r} now")
        self.state.texts.append(msg.text)
        print(
            f"got {self.ctx.message_id} {msg.text!r} conversation={self.ctx.conversation}",
            flush=True,
        )


async def main(system: af.ActorSystem) -> None:
    await system.spawn(Inbox, name="inbox")
    print("ready", flush=True)
    await anyio.sleep_forever()
