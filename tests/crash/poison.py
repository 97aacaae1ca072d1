"""An app whose one message kills the whole process (S7): run by tests/test_crash.py.

``python -m tests.crash.poison JOURNAL``: sends the poison once (idempotent id), then a good
message, and prints what happened to both once the actor is idle.
"""

from __future__ import annotations

import os
import signal
import sys

import actorflow as af


class Poison(af.Message, tag="crash.Poison"):
    pass


class Fine(af.Message, tag="crash.Fine"):
    pass


class Victim(af.Actor[None], kind="crash.Victim"):
    def on_poison(self, msg: Poison) -> None:
        os.kill(os.getpid(), signal.SIGKILL)  # a segfault in a C extension, an OOM kill...

    def on_fine(self, msg: Fine) -> str:
        return "fine"


async def main(system: af.ActorSystem) -> None:
    victim = await system.spawn(Victim, name="victim")
    await victim.tell(Poison(), id="the-poison")
    print(await victim.ask(Fine()), flush=True)
    for letter in system.dead_letters:
        print(f"dead letter: {letter.actor} {type(letter.message).__name__} {letter.error}")


if __name__ == "__main__":
    af.run(main, journal=sys.argv[1])
