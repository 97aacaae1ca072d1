"""When a supervisor gives up (S4), watchers hear why each of its children ended: the child
whose failure made it give up "failed: ...", its siblings "stopped"."""

from __future__ import annotations

import anyio
import pytest

import actorflow as af
from actorflow import testing

pytestmark = pytest.mark.anyio


class Boom(af.Message, tag="test.s4terminated.Boom"):
    pass


class WatchThem(af.Message, tag="test.s4terminated.WatchThem"):
    names: list[str]


class Member(af.Actor[None]):
    def on_boom(self, msg: Boom) -> None:
        raise ValueError("boom")


class Watcher(af.Actor[None]):
    def __init__(self, seen: list[af.Terminated], expected: int, done: anyio.Event) -> None:
        self.seen, self.expected, self.done = seen, expected, done

    def on_watch_them(self, msg: WatchThem) -> None:
        for name in msg.names:
            self.ctx.watch(self.ctx.system.lookup(name))

    def on_terminated(self, msg: af.Terminated) -> None:
        self.seen.append(msg)
        if len(self.seen) >= self.expected:
            self.done.set()


@pytest.mark.timeout(30)
async def test_s4_watchers_hear_the_failure_of_the_child_that_made_its_supervisor_give_up() -> None:
    seen: list[af.Terminated] = []
    done = anyio.Event()
    team = af.Supervisor(
        name="team",
        restart="temporary",  # root does not restart it once it gives up
        max_restarts=0,  # the first failure is one too many
        children=[af.Child(Member, name="team/a"), af.Child(Member, name="team/b", max_attempts=1)],
    )
    async with af.ActorSystem(clock=testing.FakeClock(autojump=True)) as system:
        watcher = await system.spawn(Watcher, seen, 2, done, name="watcher")
        await system.start(team)
        await watcher.ask(WatchThem(["team/a", "team/b"]))
        await system.lookup("team/b").tell(Boom())
        with anyio.fail_after(5):
            await done.wait()
        await testing.wait_idle(system)
        assert sorted(seen, key=lambda t: t.actor) == [
            af.Terminated("team/a", "stopped"),
            af.Terminated("team/b", "failed: ValueError: boom"),
        ]
        assert watcher.status == "running"  # root neither gave up nor restarted anything
