"""An application run with `actorflow.run` by tests/test_run.py in a real process.

Usage: python -m tests.apps.signals MODE [JOURNAL], where MODE is
- "graceful": an actor busy with a message that finishes on its own; SIGTERM lets it finish;
- "stuck": an actor whose message never finishes; a second SIGTERM stops the process at once;
- "give-up": an actor that fails on every message until the root supervisor gives up.
Prints "ready" once the actors run, and what happens to them, one line at a time.
"""

from __future__ import annotations

import sys

import anyio
import tenacity

import actorflow as af


class Work(af.Message):
    seconds: float


class Worker(af.Actor[None]):
    async def on_start(self) -> None:
        say(f"start {self.ctx.name}")

    async def on_work(self, msg: Work) -> None:
        say(f"working {msg.seconds}")
        if msg.seconds < 0:
            raise RuntimeError("cannot do negative work")
        await anyio.sleep(msg.seconds)
        say("worked")

    async def on_stop(self) -> None:
        say(f"stop {self.ctx.name}")


def say(line: str) -> None:
    print(line, flush=True)


async def main(system: af.ActorSystem) -> None:
    mode = sys.argv[1]
    worker = await system.spawn(Worker, name="worker", shutdown_timeout=30)
    if mode == "give-up":
        for _ in range(5):
            await worker.tell(Work(-1))
    elif mode == "graceful":
        await worker.tell(Work(0.3))
    elif mode == "stuck":
        await worker.tell(Work(3600))
    say("ready")
    await anyio.sleep_forever()


if __name__ == "__main__":
    root = af.Supervisor(name="root", backoff=tenacity.wait_none())
    af.run(main, root=root, journal=sys.argv[2] if len(sys.argv) > 2 else None)
    say("returned")
