"""R1, R2: replaying the research team's recorded conversation through its current code."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from examples.evals.record import record_team
from examples.research_team import Planner, Research, Task, llm

import actorflow as af
from actorflow import replay, testing
from actorflow.journal import MemoryJournal, SQLiteJournal
from examples import research_team

pytestmark = pytest.mark.anyio


async def test_r1_the_same_code_replays_without_divergence() -> None:
    journal = MemoryJournal()
    await record_team(journal)
    await journal.open()
    try:
        report = await replay.replay(journal, "task-1")
    finally:
        await journal.close()
    assert report.divergences == [], report.render()
    assert not report.diverged
    assert [f"{t.actor}#{t.turn}" for t in report.turns] == [
        "planner#1",
        "worker-1#1",
        "worker-2#1",
        "planner#2",
        "planner#3",
    ]
    assert report.summary() == "5 turns replayed, 0 diverged"


async def test_r1_a_replay_reads_a_journal_file_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "team.db"
    await record_team(SQLiteJournal(path))
    before = path.read_bytes()
    report = await replay.replay(path, "task-1")
    assert not report.diverged, report.render()
    assert path.read_bytes() == before


async def test_r1_a_changed_planner_prompt_replayed_live_names_the_changed_steps_and_states(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal = MemoryJournal()
    await record_team(journal)

    async def on_task(self: Planner, msg: Task) -> None:
        plan = await self.ctx.step("plan", llm, f"plan: {msg.topic} in depth")
        self.state.topic, self.state.questions = msg.topic, plan.split("|")
        for i, question in enumerate(self.state.questions):
            await self.ctx.system.lookup(f"worker-{i % 2 + 1}").tell(Research(question))

    monkeypatch.setattr(Planner, "on_task", on_task)
    await journal.open()
    try:
        report = await replay.replay(journal, "task-1", live={"plan", "llm", "write"})
    finally:
        await journal.close()
    found = {(d.where, d.what) for d in report.divergences}
    assert ("planner#1", "step plan arguments") in found
    assert ("planner#1", "step plan result") in found
    assert ("planner#1", "state.questions") in found
    assert ("planner#1", "message body") in found  # the Research questions changed
    assert ("worker-1#1", "step search arguments") in found  # the tool: from the record
    assert ("worker-1#1", "state.question") in found
    assert ("planner#3", "state.report") in found
    assert report.summary().startswith(
        "5 turns replayed, 5 diverged: planner#1 step plan arguments (+4), worker-1#1 step"
    )
    assert "state.report" in report.render()


async def test_r1_strict_replay_of_code_that_sends_one_more_message_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal = MemoryJournal()
    await record_team(journal)
    original = Planner.on_task

    async def on_task(self: Planner, msg: Task) -> None:
        await original(self, msg)
        await self.ctx.system.lookup("worker-1").tell(Research("And one more?"))

    monkeypatch.setattr(Planner, "on_task", on_task)
    await journal.open()
    try:
        report = await replay.replay(journal, "task-1")
    finally:
        await journal.close()
    assert report.diverged
    (sent, stopped) = report.divergences
    assert (sent.where, sent.what) == ("planner#1", "message sent")
    assert sent.replayed is not None
    assert "And one more?" in sent.replayed
    # The new message is handled too, until it needs a step the record does not have.
    assert (stopped.where, stopped.what) == ("worker-1#2", "step search not recorded")


async def test_r1_fork_at_a_step_runs_it_and_every_later_step_for_real() -> None:
    journal = MemoryJournal()
    await record_team(journal)
    await journal.open()
    try:
        report = await replay.replay(journal, "task-1", fork_at="write")
    finally:
        await journal.close()
    assert report.mode == "fork"
    assert not report.diverged, report.render()  # the fake LLM answers the same again
    assert report.summary() == "5 turns replayed, 0 diverged; forked at planner#3 step write"
    await journal.open()
    try:
        never = await replay.replay(journal, "task-1", fork_at="nothing")
    finally:
        await journal.close()
    assert never.summary().endswith("; step nothing never came: every step was from the record")


async def test_r1_unknown_conversation_is_a_replay_error() -> None:
    journal = MemoryJournal()
    await journal.open()
    with pytest.raises(af.ReplayError, match="conversation 'nope' is not in the journal"):
        await replay.replay(journal, "nope")
    await journal.close()


async def test_r1_code_that_raises_stops_the_replay_with_the_report_so_far(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal = MemoryJournal()
    await record_team(journal)

    def broken(self: object, msg: object) -> None:
        raise RuntimeError("the new code is broken")

    monkeypatch.setattr(research_team.Worker, "on_research", broken)
    await journal.open()
    try:
        with pytest.raises(af.ReplayError, match="worker-1#1 raised RuntimeError") as caught:
            await replay.replay(journal, "task-1")
    finally:
        await journal.close()
    report = caught.value.report
    assert isinstance(report, replay.Replay)
    assert [f"{t.actor}#{t.turn}" for t in report.turns] == ["planner#1", "worker-1#1"]
    assert "stopped: worker-1#1 raised RuntimeError" in report.summary()


async def test_r1_testing_replay_fails_a_test_with_the_diff_when_the_code_diverges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal = MemoryJournal()
    await record_team(journal)
    await journal.open()
    try:
        report = await testing.replay(journal, "task-1")
        assert report.summary() == "5 turns replayed, 0 diverged"
        original = Planner.on_finding

        async def on_finding(self: Planner, msg: research_team.Finding) -> None:
            await original(self, msg)
            self.state.report = (self.state.report or "").upper() or None

        monkeypatch.setattr(Planner, "on_finding", on_finding)
        with pytest.raises(AssertionError, match=r"planner#3 state\.report"):
            await testing.replay(journal, "task-1")
        allowed = await testing.replay(journal, "task-1", allow_divergence=True)
        assert [(d.where, d.what) for d in allowed.divergences] == [("planner#3", "state.report")]
    finally:
        await journal.close()


async def test_r1_a_message_sent_into_the_conversation_from_outside_is_replayed_too() -> None:
    journal = MemoryJournal()
    await record_team(journal)
    await journal.open()
    try:
        record = research_team.Finding("Is it fast?", "Yes. Sources: benchmarks.")
        journal.append_outside(
            af.journal.MessageRecord(
                id="late-finding",
                recipient="planner",
                type="team.Finding",
                body=msgspec.msgpack.encode(record),
                conversation="task-1",
            )
        )
    finally:
        await journal.close()
    async with af.ActorSystem(journal=journal) as system:  # handles it
        await testing.wait_idle(system)
    await journal.open()
    try:
        report = await replay.replay(journal, "task-1")
    finally:
        await journal.close()
    assert not report.diverged, report.render()
    assert [f"{t.actor}#{t.turn}" for t in report.turns][-1] == "planner#4"
    assert report.turns[-1].message_id == "late-finding"


class Boom(af.Message, tag="replay-test.Boom"):
    text: str


class Fragile(af.Actor[None], kind="replay-test.Fragile"):
    def on_boom(self, msg: Boom) -> None:
        raise ValueError(f"cannot take {msg.text!r}")


async def test_r1_a_dead_letter_that_fails_again_is_as_recorded_and_one_that_works_diverges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal = MemoryJournal()
    async with af.ActorSystem(journal=journal) as system:
        fragile = await system.spawn(Fragile, name="fragile", max_attempts=1)
        await fragile.tell(Boom("poison"), id="boom-1")
        await testing.wait_idle(system)
    await journal.open()
    try:
        (dead,) = await journal.dead_letters()
        assert dead.id == "boom-1"
        same = await replay.replay(journal, "boom-1")
        assert not same.diverged, same.render()
        (line,) = same.turns[0].lines
        assert (line.mark, line.replayed.endswith("(raised ValueError: cannot take 'poison')")) == (
            "=",
            True,
        )
        monkeypatch.setattr(Fragile, "on_boom", lambda self, msg: None)
        fixed = await replay.replay(journal, "boom-1")
    finally:
        await journal.close()
    assert [(d.where, d.what) for d in fixed.divergences] == [("fragile#1", "handled")]


class Lookup(af.Message, tag="replay-test.Lookup"):
    key: str


class Directory(af.Actor[None], kind="replay-test.Directory"):
    def on_lookup(self, msg: Lookup) -> str:
        return msg.key.upper()


class Asking(af.Actor[None], kind="replay-test.Asking"):
    async def on_lookup(self, msg: Lookup) -> None:
        await self.ctx.system.lookup("directory").ask(msg)


async def test_r1_an_ask_from_a_replayed_handler_is_a_clear_error() -> None:
    journal = MemoryJournal()
    async with af.ActorSystem(journal=journal) as system:
        await system.spawn(Directory, name="directory")
        asking = await system.spawn(Asking, name="asking")
        await asking.tell(Lookup("k"), id="ask-1")
        await testing.wait_idle(system)
    await journal.open()
    try:
        with pytest.raises(af.ReplayError, match="asking#1: ask to directory inside a handler"):
            await replay.replay(journal, "ask-1")
    finally:
        await journal.close()
