"""An app whose supervisors give up under `actorflow.run`: run by tests/test_s4_give_up_log.py.

``python -m tests.apps.give_up [JOURNAL]``: `team/p` fails on each of the ten messages `main`
sends it (each one a dead letter at once, max_attempts=1), with the same error every time. Its
supervisor `team` restarts it three times, gives up at the fourth failure and fails to the
root, which gives up at once (max_restarts=0): the process exits 1.
"""

from __future__ import annotations

import sys

import anyio
import tenacity

import actorflow as af


class Dose(af.Message, tag="giveup.Dose"):
    n: int


class Poisoned(af.Actor[None], kind="giveup.Poisoned"):
    def on_dose(self, msg: Dose) -> None:
        raise RuntimeError("poisoned")  # the same error on every message


async def main(system: af.ActorSystem) -> None:
    target = system.lookup("team/p")
    for n in range(10):
        await target.tell(Dose(n))
    await anyio.sleep_forever()


ROOT = af.Supervisor(
    name="root",
    max_restarts=0,
    children=[
        af.Supervisor(
            name="team",
            max_restarts=3,
            within=60,
            backoff=tenacity.wait_none(),
            children=[af.Child(Poisoned, name="team/p", max_attempts=1)],
        )
    ],
)


if __name__ == "__main__":
    af.run(main, root=ROOT, journal=sys.argv[1] if len(sys.argv) > 1 else None)
