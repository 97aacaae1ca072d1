"""Actors: handler discovery and M2, one message at a time in order (A1), hooks (A4), refs (A5)."""

from __future__ import annotations

import anyio
import pytest

import actorflow as af
from actorflow import testing

from .support import Add, Block, Blocker, Counter, CountState, Gate, Get, Note, Ping

pytestmark = pytest.mark.anyio


class Tagged(af.Message):
    sender: int
    seq: int


class Recorder(af.Actor[None]):
    """Records every message and checks that handlers never overlap (A1)."""

    def __init__(self, log: list[tuple[int, int]]) -> None:
        self.log = log
        self.busy = False

    async def on_tagged(self, msg: Tagged) -> None:
        assert not self.busy, "two handlers ran at once"
        self.busy = True
        await anyio.lowlevel.checkpoint()  # let other tasks run while "handling"
        self.log.append((msg.sender, msg.seq))
        self.busy = False


async def test_a1_fifo_per_sender_under_concurrent_senders() -> None:
    log: list[tuple[int, int]] = []
    async with af.ActorSystem() as system:
        ref = await system.spawn(Recorder, log, mailbox_size=16)

        async def sender(sender_id: int) -> None:
            for seq in range(300):
                await ref.tell(Tagged(sender_id, seq))

        async with anyio.create_task_group() as tg:
            for sender_id in range(8):
                tg.start_soon(sender, sender_id)
        await testing.wait_idle(ref)
    assert len(log) == 8 * 300
    for sender_id in range(8):
        assert [seq for s, seq in log if s == sender_id] == list(range(300))


async def test_a1_messages_are_handled_in_arrival_order() -> None:
    async with af.ActorSystem() as system:
        ref = await system.spawn(Counter)
        for n in range(100):
            ref.tell_nowait(Add(n))
        assert await ref.ask(Get()) == sum(range(100))


async def test_handlers_may_be_sync_or_async_and_reply_to_ask() -> None:
    async with af.ActorSystem() as system:
        ref = await system.spawn(Counter)
        assert await ref.ask(Add(2)) == 2  # def on_add
        assert await ref.ask(Ping(7)) == 7  # async def on_ping


async def test_state_is_typed_and_starts_from_its_defaults() -> None:
    class Probe(af.Actor[CountState]):
        def on_get(self, msg: Get) -> CountState:
            return self.state

    async with af.ActorSystem() as system:
        ref = await system.spawn(Probe)
        assert await ref.ask(Get()) == CountState(total=0, seen=[])


async def test_constructor_gets_spawn_args_and_sees_ctx_and_state() -> None:
    seen: list[object] = []

    class WithArgs(af.Actor[CountState]):
        def __init__(self, a: int, b: str) -> None:
            seen.extend([a, b, self.ctx.name, self.state])

        def on_get(self, msg: Get) -> None:
            return None

    async with af.ActorSystem() as system:
        await system.spawn(WithArgs, 1, "two", name="with-args")
    assert seen == [1, "two", "with-args", CountState()]


async def test_m2_wrong_type_fails_at_the_sender_and_enqueues_nothing() -> None:
    async with af.ActorSystem() as system:
        ref = await system.spawn(Counter, name="counter")
        with pytest.raises(af.MessageTypeError, match=r"counter does not accept Note; it accepts"):
            await ref.tell(Note("x"))
        with pytest.raises(af.MessageTypeError, match="Add, Fail, Get, Ping"):
            ref.tell_nowait(Note("x"))
        with pytest.raises(af.MessageTypeError):
            await ref.ask(Note("x"))
        with pytest.raises(af.MessageTypeError, match="not a Message"):
            await ref.tell("hello")  # type: ignore[arg-type]
        assert ref.statistics().mailbox_depth == 0
        assert ref.statistics().handled == 0


def test_m2_accepted_types_come_from_handler_annotations_including_unions() -> None:
    class Multi(af.Actor[None]):
        def on_either(self, msg: Add | Get) -> None:
            return None

        def helper(self) -> None:  # not on_*: not a handler
            return None

    from actorflow._handlers import handlers_of

    assert set(handlers_of(Multi)) == {Add, Get}


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("def on_x(self, msg): pass", "needs a type annotation"),
        ("def on_x(self, msg: int): pass", "annotate it with Message subclasses"),
        ("def on_x(self, msg: af.Message): pass", "annotate it with Message subclasses"),
        ("def on_x(self): pass", "exactly one message parameter"),
        ("def on_x(self, a: Add, b: Get): pass", "exactly one message parameter"),
        ("def on_x(self, msg: Add): pass\n    def on_y(self, msg: Add): pass", "two handlers"),
        ("on_x = 3", "not a method"),
    ],
)
def test_bad_handler_definitions_are_refused_with_a_clear_error(body: str, match: str) -> None:
    source = f"class Bad(af.Actor[None]):\n    {body}\n"
    with pytest.raises(af.DefinitionError, match=match):
        exec(source, {"af": af, "Add": Add, "Get": Get})


def test_state_type_must_be_a_state() -> None:
    with pytest.raises(af.DefinitionError, match="must subclass State"):

        class Bad(af.Actor[int]):  # type: ignore[type-var]
            pass


async def test_initial_state_without_defaults_gives_a_clear_error() -> None:
    class Needs(af.State):
        required: int

    class NeedsState(af.Actor[Needs]):
        def on_get(self, msg: Get) -> None:
            return None

    async with af.ActorSystem() as system:
        with pytest.raises(af.StartFailed) as info:
            await system.spawn(NeedsState)
        assert isinstance(info.value.__cause__, af.DefinitionError)
        assert "override initial_state" in str(info.value.__cause__)


async def test_a4_on_start_before_messages_and_on_stop_once_at_the_end() -> None:
    events: list[str] = []

    class Hooks(af.Actor[None]):
        async def on_start(self) -> None:
            events.append("start")

        def on_add(self, msg: Add) -> None:
            events.append(f"add {msg.n}")

        async def on_stop(self) -> None:
            events.append("stop")

    async with af.ActorSystem() as system:
        ref = await system.spawn(Hooks)
        await ref.tell(Add(1))
        await testing.wait_idle(ref)
    assert events == ["start", "add 1", "stop"]


async def test_a4_an_actor_that_raises_in_on_start_fails_the_spawn_and_is_not_registered() -> None:
    class BadStart(af.Actor[None]):
        async def on_start(self) -> None:
            raise ValueError("no config")

        def on_get(self, msg: Get) -> None:
            return None

    async with af.ActorSystem() as system:
        expected = r"bad \(BadStart\) failed to start: ValueError: no config"
        with pytest.raises(af.StartFailed, match=expected):
            await system.spawn(BadStart, name="bad")
        with pytest.raises(af.ActorNotFound):
            system.lookup("bad")
        # The name is free again and the system still works.
        ref = await system.spawn(Counter, name="bad")
        assert await ref.ask(Add(1)) == 1


async def test_a5_refs_are_hashable_comparable_and_readable() -> None:
    gate = Gate()
    async with af.ActorSystem() as system:
        ref = await system.spawn(Blocker, gate, name="agent/42", mailbox_size=10)
        assert system.lookup("agent/42") == ref
        assert len({ref, system.lookup("agent/42")}) == 1
        other = await system.spawn(Counter)
        assert other != ref
        await ref.tell(Block())
        await gate.entered.wait()
        for n in range(3):
            await ref.tell(Ping(n))
        assert repr(ref) == "<ActorRef agent/42 running mailbox 3/10>"
        gate.release.set()
        await testing.wait_idle(ref)
        assert repr(ref) == "<ActorRef agent/42 running mailbox 0/10>"
    assert ref.status == "stopped"
    assert repr(ref) == "<ActorRef agent/42 stopped mailbox 0/10>"


async def test_names_are_unique_and_lookup_finds_live_actors() -> None:
    async with af.ActorSystem() as system:
        ref = await system.spawn(Counter, name="only")
        with pytest.raises(af.ActorExists, match="'only'"):
            await system.spawn(Counter, name="only")
        anonymous = await system.spawn(Counter)
        assert anonymous.name.startswith("Counter#")
        assert set(system.actors()) == {ref, anonymous}
        await ref.stop()
        with pytest.raises(af.ActorNotFound, match="'only'"):
            system.lookup("only")
        with pytest.raises(af.ActorStopped, match="only has stopped"):
            await ref.tell(Add(1))


async def test_statistics_are_a_frozen_snapshot() -> None:
    async with af.ActorSystem() as system:
        ref = await system.spawn(Counter, name="stats")
        await ref.ask(Add(1))
        stats = ref.statistics()
        assert (stats.name, stats.status, stats.handled, stats.mailbox_capacity) == (
            "stats",
            "running",
            1,
            af.DEFAULT_MAILBOX_SIZE,
        )
        with pytest.raises(AttributeError):
            stats.handled = 5  # type: ignore[misc]


@pytest.mark.parametrize("bad", [{"mailbox_size": 0}, {"max_attempts": 0}, {"restart": "maybe"}])
async def test_bad_spawn_options_are_refused(bad: dict[str, object]) -> None:
    async with af.ActorSystem() as system:
        with pytest.raises(af.DefinitionError):
            await system.spawn(Counter, **bad)  # type: ignore[arg-type]
