"""Supervision: strategies (S2), restart types (S3), intensity (S4), backoff (S5), messages
during restarts (S6), poison messages (S7), shutdown (S8), death watch."""

from __future__ import annotations

import logging

import anyio
import anyio.lowlevel
import pytest
import tenacity

import actorflow as af
from actorflow import testing
from actorflow._ref import cell_of

from .support import Add, Counter, Fail, Get, Ping

pytestmark = pytest.mark.anyio


class Stop(af.Message):
    pass


class Tracker(af.Actor[af.State]):
    """Logs its lifecycle into a shared list and keeps a count in memory."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.count = 0

    async def on_start(self) -> None:
        self.log.append(f"start {self.ctx.name}")

    async def on_stop(self) -> None:
        self.log.append(f"stop {self.ctx.name}")

    def on_add(self, msg: Add) -> int:
        self.count += msg.n
        return self.count

    def on_fail(self, msg: Fail) -> None:
        raise RuntimeError(msg.reason)

    def on_stop_msg(self, msg: Stop) -> None:
        self.ctx.stop()


def team(strategy: af.Strategy, log: list[str], **options: object) -> af.Supervisor:
    return af.Supervisor(
        name="team",
        strategy=strategy,
        children=[af.Child(Tracker, log, name=n, max_attempts=1) for n in "abc"],
        backoff=tenacity.wait_none(),
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("strategy", "after_failure", "kept"),
    [
        ("one_for_one", ["stop b", "start b"], {"a": 1, "b": 0, "c": 1}),
        (
            "one_for_all",
            ["stop b", "stop c", "stop a", "start a", "start b", "start c"],
            {"a": 0, "b": 0, "c": 0},
        ),
        ("rest_for_one", ["stop b", "stop c", "start b", "start c"], {"a": 1, "b": 0, "c": 0}),
    ],
)
async def test_s2_strategies_with_a_failing_middle_child(
    strategy: af.Strategy, after_failure: list[str], kept: dict[str, int]
) -> None:
    log: list[str] = []
    async with af.ActorSystem() as system:
        await system.start(team(strategy, log))
        assert log == ["start a", "start b", "start c"]
        refs = {name: system.lookup(name) for name in "abc"}
        for ref in refs.values():
            await ref.ask(Add(1))
        log.clear()
        with pytest.raises(af.ActorFailed):
            await refs["b"].ask(Fail())
        await testing.wait_idle(system)  # the restarts are done
        # Asks wait in the mailboxes through the restarts (S6) and see who kept its count.
        counts = {name: await ref.ask(Add(0)) for name, ref in refs.items()}
        assert log == after_failure
        assert counts == kept
        log.clear()
    assert log == ["stop c", "stop b", "stop a"]  # S8: reverse start order


async def test_s3_permanent_restarts_after_normal_exit_and_failure() -> None:
    log: list[str] = []
    async with af.ActorSystem() as system:
        ref = await system.spawn(Tracker, log, name="p", max_attempts=1)
        await ref.tell(Stop())
        assert await ref.ask(Add(1)) == 1
        with pytest.raises(af.ActorFailed):
            await ref.ask(Fail())
        assert await ref.ask(Add(1)) == 1
        assert ref.statistics().restarts == 2
    assert log == ["start p", "stop p", "start p", "stop p", "start p", "stop p"]


async def test_s3_transient_restarts_only_after_a_failure() -> None:
    log: list[str] = []
    async with af.ActorSystem() as system:
        ref = await system.spawn(Tracker, log, name="t", restart="transient", max_attempts=1)
        with pytest.raises(af.ActorFailed):
            await ref.ask(Fail())
        assert await ref.ask(Add(1)) == 1  # restarted after the failure
        await ref.tell(Stop())
        await testing.wait_idle(ref)
        assert ref.status == "stopped"
        with pytest.raises(af.ActorStopped):
            await ref.tell(Add(1))
    assert log == ["start t", "stop t", "start t", "stop t"]


async def test_s3_temporary_is_never_restarted_and_its_message_is_a_dead_letter() -> None:
    log: list[str] = []
    async with af.ActorSystem() as system:
        ref = await system.spawn(Tracker, log, name="tmp", restart="temporary")
        with pytest.raises(af.ActorFailed):
            await ref.ask(Fail("once"))
        await testing.wait_idle(ref)
        assert ref.status == "stopped"
        (letter,) = system.dead_letters
        assert (letter.actor, letter.reason, letter.attempts) == ("tmp", "failed", 1)
        assert letter.error == "RuntimeError: once"
        assert "RuntimeError: once" in (letter.traceback or "")
    assert log == ["start tmp", "stop tmp"]


async def test_s4_escalates_after_intensity_exceeded() -> None:
    clock = testing.FakeClock(autojump=True)
    root = af.Supervisor(name="root", max_restarts=3, within=5.0)
    with testing.capture_logs() as records, pytest.raises(af.SupervisorGaveUp) as info:
        async with af.ActorSystem(root=root, clock=clock) as system:
            ref = await system.spawn(Counter, name="crashy")
            await ref.tell(Fail("first"))  # 3 attempts: 3 failures, 3 restarts
            await ref.tell(Fail("second"))  # the 4th failure within 5 s: give up
            await anyio.sleep_forever()
    assert info.value.supervisor == "root"
    assert info.value.actor == "crashy"
    assert "more than 3 restarts within 5 s" in str(info.value)
    assert len(clock.slept) == 3  # exactly three restarts, each after its backoff
    gave_up = [r for r in records if r.getMessage().startswith("supervisor root gave up")]
    assert len(gave_up) == 1
    assert "crashy failed with RuntimeError: second" in gave_up[0].getMessage()


async def test_s4_restarts_outside_the_window_do_not_count() -> None:
    clock = testing.FakeClock()
    root = af.Supervisor(name="root", max_restarts=2, within=5.0, backoff=tenacity.wait_none())
    with pytest.raises(af.SupervisorGaveUp):
        async with af.ActorSystem(root=root, clock=clock) as system:
            ref = await system.spawn(Counter, max_attempts=1)
            for at in (0.0, 1.0, 6.5, 7.0):  # at most 2 restarts in any 5 s
                clock.advance(at - clock.now())
                with pytest.raises(af.ActorFailed):
                    await ref.ask(Fail())
                assert await ref.ask(Ping(1)) == 1
            assert ref.statistics().restarts == 4
            clock.advance(0.5)
            await ref.tell(Fail())  # a third restart within 5 s of 6.5 and 7.0
            await anyio.sleep_forever()


async def test_s5_backoff_follows_the_tenacity_policy_and_resets_after_a_healthy_period() -> None:
    clock = testing.FakeClock(autojump=True)
    root = af.Supervisor(
        name="root",
        max_restarts=100,
        within=1.0,
        backoff=tenacity.wait_exponential(multiplier=1, max=3),
        reset_after=10.0,
    )
    async with af.ActorSystem(root=root, clock=clock) as system:
        ref = await system.spawn(Counter, max_attempts=1)
        for _ in range(4):
            with pytest.raises(af.ActorFailed):
                await ref.ask(Fail())
            await ref.ask(Ping(0))
        assert clock.slept == [1, 2, 3, 3]  # exponential, capped
        clock.advance(60)  # healthy for longer than reset_after
        with pytest.raises(af.ActorFailed):
            await ref.ask(Fail())
        await ref.ask(Ping(0))
        assert clock.slept[-1] == 1


async def test_s5_default_backoff_is_exponential_with_jitter_and_capped() -> None:
    wait = af.default_backoff()
    for attempt, low, high in [(1, 0.01, 0.02), (4, 0.08, 0.09), (30, 2.0, 2.0)]:
        state = tenacity.RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = attempt
        assert low <= wait(state) <= high


async def test_s6_messages_wait_through_a_backoff_and_nothing_is_lost() -> None:
    clock = testing.FakeClock()
    root = af.Supervisor(name="root", backoff=tenacity.wait_fixed(30))
    async with af.ActorSystem(root=root, clock=clock) as system:
        ref = await system.spawn(Counter, max_attempts=1)
        await ref.tell(Fail())
        for _ in range(50):
            await ref.tell(Add(1))
        await anyio.wait_all_tasks_blocked()
        assert ref.status == "restarting"
        assert clock.sleepers == 1
        clock.advance(30)
        assert await ref.ask(Get()) == 50


async def test_s7_poison_message_among_1000_good_ones() -> None:
    clock = testing.FakeClock(autojump=True)
    async with af.ActorSystem(clock=clock) as system:
        ref = await system.spawn(Counter, name="worker")
        for n in range(1000):
            await ref.tell(Fail("poison") if n == 500 else Add(1))
        await testing.wait_idle(ref)
        stats = ref.statistics()
        assert stats.handled == 999
        assert stats.failed == 3
        assert stats.restarts <= 3
        (letter,) = system.dead_letters
        assert (letter.message, letter.attempts, letter.reason) == (Fail("poison"), 3, "failed")
        # The 499 additions after the poison message survived the restarts (S6).
        assert await ref.ask(Get()) == 499


async def test_s7_dead_letters_are_logged_once_and_can_be_requeued() -> None:
    clock = testing.FakeClock(autojump=True)
    root = af.Supervisor(name="root", max_restarts=10)
    async with af.ActorSystem(root=root, clock=clock) as system:
        ref = await system.spawn(Counter, name="w", max_attempts=2)
        with testing.capture_logs() as records:
            with pytest.raises(af.ActorFailed):
                await ref.ask(Fail("bad"))
            await testing.wait_idle(ref)
        errors = [r for r in records if r.levelno >= logging.ERROR]
        assert len(errors) == 1
        assert "w dead-lettered Fail after 2 attempt(s)" in errors[0].getMessage()
        (letter,) = system.dead_letters
        await system.requeue(letter)
        await testing.wait_idle(ref)
        assert system.dead_letter_count == 2  # it failed again, visibly
        assert ref.statistics().failed == 4


class Stubborn(af.Actor[None]):
    """Shields its handler from cancellation until the gate opens."""

    def __init__(self, gate: anyio.Event, entered: anyio.Event, log: list[str]) -> None:
        self.gate, self.entered, self.log = gate, entered, log

    async def on_ping(self, msg: Ping) -> None:
        self.entered.set()
        with anyio.CancelScope(shield=True):
            await self.gate.wait()
        self.log.append("finished")

    async def on_stop(self) -> None:
        self.log.append("on_stop")


async def test_s8_a_child_that_ignores_cancellation_delays_shutdown_and_stops_once() -> None:
    gate, entered, log = anyio.Event(), anyio.Event(), []
    stopped = anyio.Event()

    async def run_system() -> None:
        async with af.ActorSystem() as system:
            ref = await system.spawn(Stubborn, gate, entered, log, shutdown_timeout=0.01)
            await ref.tell(Ping(1))
            await entered.wait()
        stopped.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(run_system)
        await entered.wait()
        await anyio.wait_all_tasks_blocked()
        assert not stopped.is_set()
        gate.set()
    assert log == ["finished", "on_stop"]


async def test_s8_shutdown_cancels_a_handler_after_the_timeout_and_calls_on_stop_once() -> None:
    gate, entered, log = anyio.Event(), anyio.Event(), []

    class Slow(af.Actor[None]):
        async def on_ping(self, msg: Ping) -> None:
            entered.set()
            await gate.wait()

        async def on_stop(self) -> None:
            log.append("on_stop")

    async with af.ActorSystem() as system:
        ref = await system.spawn(Slow, name="slow", shutdown_timeout=0.01)
        await ref.tell(Ping(1))
        await entered.wait()
    assert log == ["on_stop"]
    assert [d.reason for d in system.dead_letters] == ["stopped"]


async def test_s8_a_supervisor_stuck_in_a_restart_backoff_can_be_shut_down() -> None:
    clock = testing.FakeClock()
    log: list[str] = []
    sup = af.Supervisor(
        name="team",
        strategy="one_for_all",
        children=[af.Child(Tracker, log, name=n, max_attempts=1) for n in "ab"],
        backoff=tenacity.wait_fixed(3600),
    )
    async with af.ActorSystem(clock=clock) as system:
        await system.start(sup)
        await system.lookup("a").tell(Fail())
        await anyio.wait_all_tasks_blocked()
        assert clock.sleepers == 1  # the supervisor waits an hour before restarting
    assert log == ["start a", "start b", "stop a", "stop b"]


async def test_nested_escalation_through_two_levels() -> None:
    clock = testing.FakeClock(autojump=True)
    mid = af.Supervisor(
        name="mid", max_restarts=1, children=[af.Child(Counter, name="leaf", max_attempts=1)]
    )
    root = af.Supervisor(name="root", max_restarts=1, children=[mid])
    with testing.capture_logs() as records, pytest.raises(af.SupervisorGaveUp) as info:
        async with af.ActorSystem(root=root, clock=clock) as system:
            leaf = system.lookup("leaf")
            for _ in range(4):
                await leaf.tell(Fail())
            await anyio.sleep_forever()
    heads = [r.getMessage().split(":")[0] for r in records]
    assert [head for head in heads if head.endswith("gave up")] == [
        "supervisor mid gave up",
        "supervisor mid gave up",
        "supervisor root gave up",
    ]
    assert (info.value.supervisor, info.value.actor) == ("root", "mid")


class Watcher(af.Actor[None]):
    def __init__(self, seen: list[af.Terminated], done: anyio.Event) -> None:
        self.seen, self.done = seen, done

    def on_add(self, msg: Add) -> None:
        self.ctx.watch(self.ctx.system.lookup(f"watched-{msg.n}"))

    def on_terminated(self, msg: af.Terminated) -> None:
        self.seen.append(msg)
        self.done.set()


async def test_death_watch_delivers_terminated_with_the_reason() -> None:
    seen: list[af.Terminated] = []
    done = anyio.Event()
    async with af.ActorSystem() as system:
        watched = await system.spawn(Counter, name="watched-1", restart="temporary")
        watcher = await system.spawn(Watcher, seen, done)
        await watcher.ask(Add(1))
        await watched.tell(Fail("gone"))
        await done.wait()
    assert seen == [af.Terminated("watched-1", "failed: RuntimeError: gone")]


async def test_death_watch_of_a_stopped_actor_delivers_at_once() -> None:
    seen: list[af.Terminated] = []
    done = anyio.Event()
    async with af.ActorSystem() as system:
        watched = await system.spawn(Counter, name="watched-2")
        watcher = await system.spawn(Watcher, seen, done)
        await watcher.ask(Add(2))
        await watched.stop()
        await done.wait()
        assert seen == [af.Terminated("watched-2", "stopped")]


async def test_death_watch_needs_a_terminated_handler() -> None:
    async with af.ActorSystem() as system:
        a = await system.spawn(Counter, name="a")
        b = await system.spawn(Counter, name="b")
        with pytest.raises(af.DefinitionError, match="no handler for Terminated"):
            cell_of(a).watch(cell_of(b))


async def test_restarts_escalations_and_dead_letters_are_logged_and_counted() -> None:
    clock = testing.FakeClock(autojump=True)
    mid = af.Supervisor(name="mid", max_restarts=1, restart="temporary")
    async with af.ActorSystem(clock=clock) as system:
        await system.start(mid)
        ref = await system.spawn(Counter, name="visible", supervisor="mid", max_attempts=1)
        with testing.capture_logs(logging.INFO) as records:
            with pytest.raises(af.ActorFailed):
                await ref.ask(Fail())
            await ref.ask(Ping(1))
            with pytest.raises(af.ActorFailed):
                await ref.ask(Fail())  # the second restart within 5 s: mid gives up
            await testing.wait_idle(system)
        lines = [r.getMessage() for r in records]
        assert any(
            line.startswith("supervisor mid restarting visible (one_for_one)") for line in lines
        )
        assert any("visible dead-lettered Fail" in line for line in lines)
        assert any(line.startswith("supervisor mid gave up: actor visible") for line in lines)
        stats = system.statistics()
        assert (stats.failed, stats.restarts, stats.dead_letters, stats.escalations) == (2, 1, 2, 1)
        assert stats.handled == 1  # counted although the actor has stopped for good
        assert stats.actors == 0


async def test_a_child_failing_to_start_fails_the_supervisor_start_with_start_failed() -> None:
    class NoStart(af.Actor[None]):
        async def on_start(self) -> None:
            raise OSError("no tool binary")

        def on_get(self, msg: Get) -> None:
            return None

    log: list[str] = []
    spec = af.Supervisor(
        name="team",
        children=[af.Child(Tracker, log, name="first"), af.Child(NoStart, name="second")],
    )
    async with af.ActorSystem() as system:
        with pytest.raises(af.StartFailed, match=r"second .* failed to start: OSError"):
            await system.start(spec)
        assert log == ["start first", "stop first"]  # the started one was stopped again
        with pytest.raises(af.ActorNotFound):
            system.lookup("first")
        await system.start(af.Supervisor(name="team"))  # the name is free again


async def test_children_of_a_restarted_supervisor_count_the_restart() -> None:
    clock = testing.FakeClock(autojump=True)
    mid = af.Supervisor(
        name="mid", max_restarts=0, children=[af.Child(Counter, name="leaf", max_attempts=1)]
    )
    async with af.ActorSystem(root=af.Supervisor(name="root", children=[mid]), clock=clock) as s:
        leaf = s.lookup("leaf")
        with pytest.raises(af.ActorFailed):
            await leaf.ask(Fail())  # mid gives up at once; root restarts mid and its child
        await testing.wait_idle(s)
        assert leaf.statistics().restarts == 1


async def test_a_root_child_failing_to_start_fails_the_system_start_with_start_failed() -> None:
    class Refuses(af.Actor[None]):
        async def on_start(self) -> None:
            raise OSError("no")

        def on_get(self, msg: Get) -> None:
            return None

    root = af.Supervisor(name="root", children=[af.Child(Refuses, name="x")])
    with pytest.raises(af.StartFailed, match=r"x \(Refuses\) failed to start: OSError: no"):
        async with af.ActorSystem(root=root):
            pass


async def test_s5_s8_an_actor_stopped_just_as_its_backoff_ends_does_not_start() -> None:
    """The backoff's sleep has ended (its task is ready to run) when the stop comes: the stop's
    cancellation reaches the task only at its next wait, so the task itself must see that it
    is stopping rather than start the actor (it used to enter STARTING from STOPPING)."""
    clock = testing.FakeClock()
    root = af.Supervisor(name="root", backoff=tenacity.wait_fixed(1.0))
    async with af.ActorSystem(root=root, clock=clock) as system:
        ref = await system.spawn(Counter, name="crashy", max_attempts=1)
        await ref.tell(Fail("once"))
        with anyio.fail_after(10):
            while clock.sleepers == 0:  # the backoff has begun: polled
                await anyio.lowlevel.checkpoint()
        clock.advance(1.0)  # the backoff ends, and before its task runs, the stop comes
        await cell_of(ref).shutdown()
        assert ref.status == "stopping"


class SlowStart(af.Actor[None]):
    """Its ``on_start`` waits for its gate, so a spawn of it is still in flight meanwhile."""

    def __init__(self, entered: anyio.Event, gate: anyio.Event, log: list[str]) -> None:
        self.entered, self.gate, self.log = entered, gate, log

    async def on_start(self) -> None:
        self.entered.set()
        await self.gate.wait()

    async def on_stop(self) -> None:
        self.log.append(f"stop {self.ctx.name}")

    def on_ping(self, msg: Ping) -> None:
        return None


async def test_s8_c3_a_stop_while_spawns_start_stops_every_child_and_ends() -> None:
    """Actors coming back as shares move (C3) are spawns in flight when their node stops. The
    stop begins with the last one, still in its ``on_start``; the two before it get started
    meanwhile, and each spawn, seeing the supervisor stopping, stops its actor and takes it off
    the children. The children started before them must still stop, last first, and the stop
    must end (S8): walking the shrinking list, the supervisor used to stop at those two and
    wait for ever on the actors it had not stopped."""
    log: list[str] = []
    late = ["s0", "s1", "s2"]
    entered = {name: anyio.Event() for name in late}
    gates = {name: anyio.Event() for name in late}
    refused: dict[str, BaseException] = {}
    with anyio.fail_after(10):
        async with af.ActorSystem() as system:
            for name in ("k0", "k1"):
                await system.spawn(Tracker, log, name=name)

            async def spawn(name: str) -> None:
                try:
                    await system.spawn(SlowStart, entered[name], gates[name], log, name=name)
                except af.ActorStopped as exc:
                    refused[name] = exc

            async with anyio.create_task_group() as spawns:
                for name in late:  # appended to the children in this order
                    spawns.start_soon(spawn, name)
                    await entered[name].wait()
                last = system.lookup("s2")
                async with anyio.create_task_group() as stopping:
                    stopping.start_soon(system.stop)
                    while last.status != "stopping":  # the stop has reached s2: polled
                        await anyio.lowlevel.checkpoint()
                    gates["s0"].set()
                    gates["s1"].set()
                    while len(refused) < 2:  # both spawns gave up: polled
                        await anyio.lowlevel.checkpoint()
                    gates["s2"].set()
    assert sorted(refused) == late
    assert sorted(log[:2]) == ["start k0", "start k1"]
    assert sorted(log[2:5]) == ["stop s0", "stop s1", "stop s2"]
    assert log[5:] == ["stop k1", "stop k0"]  # after the late ones, in reverse start order


class SlowStop(af.Actor[None]):
    """Its ``on_stop`` waits for its gate."""

    def __init__(self, stopping: anyio.Event, gate: anyio.Event, log: list[str]) -> None:
        self.stopping, self.gate, self.log = stopping, gate, log

    async def on_stop(self) -> None:
        self.stopping.set()
        await self.gate.wait()
        self.log.append(f"stop {self.ctx.name}")

    def on_ping(self, msg: Ping) -> None:
        return None


async def test_s8_a_stop_asked_for_again_meanwhile_waits_for_the_first() -> None:
    """The system's stop called again while the first one waits for an actor's ``on_stop``
    (a second Ctrl-C's path, or a block's exit after an explicit stop): it ends with the
    first, each actor stopped once; it used to raise "no transition from STOPPING to
    STOPPING" from the root supervisor."""
    stopping, gate, log = anyio.Event(), anyio.Event(), []
    with anyio.fail_after(10):
        async with af.ActorSystem() as system:
            await system.spawn(SlowStop, stopping, gate, log, name="slow", shutdown_timeout=60)
            async with anyio.create_task_group() as tg:
                tg.start_soon(system.stop)
                await stopping.wait()
                tg.start_soon(system.stop)
                await anyio.wait_all_tasks_blocked()
                gate.set()
    assert log == ["stop slow"]


async def test_s8_c3_a_removal_cut_short_by_a_stop_returns_once_the_actor_stopped() -> None:
    """An actor being removed (``ref.stop()``, or a durable actor whose share moved away, C3)
    when its supervisor stops: the supervisor's stop takes the removal over, and the remover
    returns once the actor has stopped (S8); it used to wait for ever, its removal dropped with
    the supervisor's loop."""
    stopping, gate, log = anyio.Event(), anyio.Event(), []
    seen: list[list[str]] = []  # what had stopped when the removal returned
    with anyio.fail_after(10):
        async with af.ActorSystem() as system:
            ref = await system.spawn(
                SlowStop, stopping, gate, log, name="leaving", shutdown_timeout=60
            )

            async def remove() -> None:
                await ref.stop()
                seen.append(list(log))

            async with anyio.create_task_group() as tg:
                tg.start_soon(remove)
                await stopping.wait()  # the removal waits for on_stop
                tg.start_soon(system.stop)
                await anyio.wait_all_tasks_blocked()
                gate.set()
    assert seen == [["stop leaving"]]  # it returned, once the actor had stopped
