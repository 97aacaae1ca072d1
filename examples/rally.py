"""Two agents trade a message back and forth: a conversation that is one long chain.

Each turn is sent while handling the one before, so the conversation is a chain of causes (J7)
as long as the exchange. `actorflow journal conversation rally-1` draws it as a few lines: the
run of single replies is one line with a count.

    actorflow run examples.rally:main --journal rally.db
    actorflow journal conversation rally-1 --journal rally.db
"""

from __future__ import annotations

import os
import sys

import anyio

import actorflow as af

TURNS = int(os.environ.get("RALLY_TURNS", "5000"))


class Ball(af.Message, tag="rally.Ball"):
    turn: int


class GetHits(af.Message, tag="rally.GetHits"):
    pass


class Hits(af.State):
    count: int = 0


OVER = anyio.Event()  # set when the last turn is played (main waits on it)


class Player(af.Actor[Hits], kind="rally.Player"):
    def __init__(self, partner: str) -> None:
        self.partner = partner

    async def on_ball(self, msg: Ball) -> None:
        self.state.count += 1
        if msg.turn + 1 < TURNS:
            await self.ctx.system.lookup(self.partner).tell(Ball(msg.turn + 1))
        else:
            OVER.set()

    def on_get_hits(self, msg: GetHits) -> int:
        return self.state.count


async def main(system: af.ActorSystem) -> None:
    ann = await system.spawn(Player, "bo", name="ann")
    bo = await system.spawn(Player, "ann", name="bo")
    await ann.tell(Ball(0), id="rally-1")  # once, however often we run
    hits = await ann.ask(GetHits(), expect=int) + await bo.ask(GetHits(), expect=int)
    if hits < TURNS:
        await OVER.wait()
    print(f"rally-1: {TURNS} turns")


if __name__ == "__main__":
    af.run(main, journal=sys.argv[1] if len(sys.argv) > 1 else "rally.db")
