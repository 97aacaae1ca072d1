"""J4: a plain step function declared `nonblocking` is called on the event loop, in the
handler's task, and recorded and replayed like any other step; undeclared ones still go to a
worker thread."""

from __future__ import annotations

import functools
import threading

import msgspec
import pytest
import tenacity

import actorflow as af
from actorflow.journal import JournalBackend

pytestmark = pytest.mark.anyio


class Run(af.Message, tag="nonblocking.Run"):
    text: str
    fail_first: bool = False


class Parsed(msgspec.Struct):
    words: list[str]
    thread: int


CALLS: list[str] = []


@af.nonblocking
def parse(text: str) -> Parsed:
    """Splits `text` into words."""
    CALLS.append(text)
    return Parsed(text.split(), threading.get_ident())


def plain(text: str) -> int:
    return threading.get_ident()


class Parser(af.Actor[None], kind="nonblocking.Parser"):
    async def on_run(self, msg: Run) -> tuple[Parsed, int, str | None]:
        parsed = await self.ctx.step("parse", parse, msg.text)
        in_thread = await self.ctx.step("plain", plain, msg.text)
        seen = await self.ctx.step("seen", af.nonblocking(lambda: self.ctx.current_step))
        if msg.fail_first and self.ctx.attempt == 1:
            raise RuntimeError("again")
        return parsed, in_thread, seen


async def test_j4_a_nonblocking_step_runs_on_the_loop_and_a_plain_one_in_a_thread(
    journal: JournalBackend,
) -> None:
    CALLS.clear()
    async with af.ActorSystem(journal=journal) as system:
        parser = await system.spawn(Parser, name="parser")
        parsed, in_thread, seen = await parser.ask(Run("a b"))
    assert parsed == Parsed(["a", "b"], threading.get_ident())  # the loop's thread: this one
    assert in_thread != threading.get_ident()
    assert seen == "seen"  # it ran inside its step, in the handler's task


async def test_j4_a_nonblocking_step_is_recorded_and_not_called_again(
    journal: JournalBackend,
) -> None:
    CALLS.clear()
    async with af.ActorSystem(journal=journal) as system:
        parser = await system.spawn(Parser, name="parser")
        await parser.tell(Run("x y", fail_first=True), id="m-1")
        await system.wait_idle()
        recorded = await journal.steps("m-1")
    assert CALLS == ["x y"]  # the second attempt got the recorded result back
    assert msgspec.msgpack.decode(recorded["parse"], type=Parsed).words == ["x", "y"]


async def test_j4_a_nonblocking_step_s_error_is_raised_as_it_is_and_retried() -> None:
    failures = [ValueError("first"), ValueError("second")]

    @af.nonblocking
    def flaky() -> str:
        if failures:
            raise failures.pop(0)
        return "done"

    class Flaky(af.Actor[None], kind="nonblocking.Flaky"):
        async def on_run(self, msg: Run) -> str:
            if msg.text == "once":
                return await self.ctx.step("flaky", flaky)
            retry = tenacity.AsyncRetrying(stop=tenacity.stop_after_attempt(3), reraise=True)
            return await self.ctx.step("flaky", flaky, retry=retry)

    async with af.ActorSystem() as system:
        actor = await system.spawn(Flaky, max_attempts=1)
        with pytest.raises(af.ActorFailed) as failed:
            await actor.ask(Run("once"))
        assert isinstance(failed.value.__cause__, ValueError)
        assert str(failed.value.__cause__) == "first"
        assert await actor.ask(Run("retried")) == "done"  # "second" was retried away


def test_j4_nonblocking_keeps_the_function_and_its_signature() -> None:
    def original(text: str) -> Parsed:
        """Its docstring."""
        return Parsed([text], 0)

    marked = af.nonblocking(original)
    assert marked is not original
    assert marked.__name__ == "original"
    assert marked.__doc__ == "Its docstring."
    assert marked("w") == Parsed(["w"], 0)
    assert not hasattr(original, "__actorflow_nonblocking__")  # the original is unchanged
    assert af.nonblocking(marked) is marked  # marking twice is marking once


async def test_j4_nonblocking_passes_async_functions_and_partials_through() -> None:
    async def fetch() -> int:
        return 1

    assert af.nonblocking(fetch) is fetch  # already on the loop
    bound = functools.partial(parse, "p q")

    class Partial(af.Actor[None], kind="nonblocking.Partial"):
        async def on_run(self, msg: Run) -> int:
            return (await self.ctx.step("p", bound)).thread

    async with af.ActorSystem() as system:
        actor = await system.spawn(Partial)
        assert await actor.ask(Run("")) == threading.get_ident()


def test_j4_nonblocking_refuses_what_is_not_a_function() -> None:
    with pytest.raises(TypeError, match=r"nonblocking\(\) takes a function, not int"):
        af.nonblocking(3)  # type: ignore[type-var]
