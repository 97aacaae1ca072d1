"""Every way a handler can end is a defined outcome (S9): a failure of that message, or a stop
of the system that every waiting asker hears as `ActorStopped`."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

import actorflow as af
from actorflow import testing
from actorflow.journal import JournalBackend

from .support import each_journal as each_journal  # the `journal` fixture

pytestmark = pytest.mark.anyio


class Go(af.Message, tag="test.s9.Go"):
    pass


class Ping(af.Message, tag="test.s9.Ping"):
    pass


class Wait(af.Message, tag="test.s9.Wait"):
    pass


class Unrequested(af.Actor[None], kind="test.s9.Unrequested"):
    """Awaits a future that something else cancelled: a CancelledError nobody requested."""

    async def on_go(self, msg: Go) -> None:
        future = asyncio.get_running_loop().create_future()
        future.cancel()
        await future

    def on_ping(self, msg: Ping) -> str:
        return "pong"


@pytest.mark.timeout(30)
async def test_s9_an_unrequested_cancelled_error_in_a_handler_is_a_failure(
    journal: JournalBackend | None,
) -> None:
    clock = testing.FakeClock(autojump=True)  # backoffs cost no time
    root = af.Supervisor(name="root", max_restarts=100)
    async with af.ActorSystem(journal=journal, root=root, clock=clock) as system:
        w = await system.spawn(Unrequested, name="w")
        await w.tell(Go())
        assert await w.ask(Ping(), timeout=5) == "pong"  # restarted, and serves again
        stats = w.statistics()
        assert stats.failed >= 1, stats
        assert stats.restarts >= 1, stats
        with pytest.raises(af.ActorFailed) as info:
            await w.ask(Go(), timeout=5)  # once its attempts (3) are used
        assert isinstance(info.value.__cause__, asyncio.CancelledError), repr(info.value.__cause__)
        await testing.wait_idle(system)
        letters = [d for d in system.dead_letters if d.actor == "w"]
        assert len(letters) == 2, letters
        for letter in letters:
            assert letter.reason == "failed"
            assert (letter.error or "").startswith("CancelledError"), letter.error
        assert await w.ask(Ping(), timeout=5) == "pong"


class Exiting(af.Actor[None]):
    """Raises the given BaseException (SystemExit, KeyboardInterrupt) from its handler."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def on_go(self, msg: Go) -> None:
        raise self.exc


class Waiter(af.Actor[None]):
    """Blocks on the test's event in its handler, with an asker waiting for its reply."""

    def __init__(self, entered: anyio.Event) -> None:
        self.entered = entered

    async def on_wait(self, msg: Wait) -> None:
        self.entered.set()
        await anyio.Event().wait()  # never set: the asker waits until the system stops


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "exc", [SystemExit(3), KeyboardInterrupt()], ids=["SystemExit", "KeyboardInterrupt"]
)
def test_s9_system_exit_in_a_handler_stops_the_system_and_askers_hear_actor_stopped(
    exc: BaseException, anyio_backend: tuple[str, dict[str, Any]]
) -> None:
    # A plain test running its own loop: an exception that escapes a task is re-raised out of
    # asyncio's loop, and a KeyboardInterrupt escaping the test's loop would end the session.
    backend, options = anyio_backend
    outcomes: dict[str, BaseException | str] = {}
    raised: list[BaseException] = []

    async def ask(name: str, ref: af.ActorRef[Any], message: af.Message) -> None:
        try:
            outcomes[name] = repr(await ref.ask(message, timeout=5))
        except BaseException as err:  # what the asker heard, whatever it is
            outcomes[name] = err

    async def main() -> None:
        # The askers run in a task group outside the system's own.
        async with anyio.create_task_group() as outside:
            try:
                async with af.ActorSystem() as system:
                    entered = anyio.Event()
                    exiting = await system.spawn(Exiting, exc, name="exiting")
                    waiter = await system.spawn(Waiter, entered, name="waiter")
                    outside.start_soon(ask, "waiter", waiter, Wait())
                    await entered.wait()
                    outside.start_soon(ask, "exiting", exiting, Go())
                    await anyio.sleep_forever()  # the system stops: its block ends by raising
            except BaseException as err:  # what the system's block raised, whatever it is
                raised.append(err)

    try:
        anyio.run(main, backend=backend, backend_options=options)
    except BaseException as err:
        pytest.fail(f"{err!r} escaped the event loop instead of the system's block")
    # The same exception comes out of the system's block: not a bare CancelledError, no group.
    assert len(raised) == 1, raised
    assert raised[0] is exc, repr(raised[0])
    if isinstance(exc, SystemExit):
        assert raised[0].code == 3
    assert set(outcomes) == {"waiter", "exiting"}, outcomes
    for name, outcome in outcomes.items():
        assert isinstance(outcome, af.ActorStopped), (name, repr(outcome))
