"""Bundles (R1): one recorded conversation in a versioned, self-contained file, replayable
without its journal; bad bundles and unknown kinds are one clear error."""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
import pytest
from examples.evals.record import record_team

import actorflow as af
from actorflow import replay
from actorflow.journal import SQLiteJournal

from ..cli.support import assert_one_error_line, cli


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("bundle")
    journal = directory / "team.db"
    anyio.run(record_team, SQLiteJournal(journal))
    path = directory / "task-1.bundle"
    export = ["journal", "export", "--conversation", "task-1", "--bundle", str(path)]
    result = cli([*export, "--journal", str(journal)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"wrote conversation task-1 to {path}: 7 messages, 7 turns")
    journal.unlink()  # the bundle is self-contained
    return path


def test_r1_a_bundle_replays_without_its_journal(bundle: Path) -> None:
    result = cli(["replay", "--bundle", str(bundle)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "5 turns replayed, 0 diverged"
    report = anyio.run(replay.replay, replay.read_bundle(bundle))
    assert not report.diverged


def test_r1_a_bundle_round_trips_its_recording(bundle: Path, tmp_path: Path) -> None:
    recording = replay.read_bundle(bundle)
    assert recording.conversation == "task-1"
    assert set(recording.actors) == {"planner", "worker-1", "worker-2", "search"}
    again = tmp_path / "again.bundle"
    replay.write_bundle(recording, again)
    assert replay.read_bundle(again) == recording


def test_r1_a_bundle_of_a_newer_format_is_refused(bundle: Path, tmp_path: Path) -> None:
    data = msgspec.msgpack.decode(bundle.read_bytes())
    data["version"] = replay.BUNDLE_VERSION + 1
    newer = tmp_path / "newer.bundle"
    newer.write_bytes(msgspec.msgpack.encode(data))
    with pytest.raises(af.ReplayError, match="format version 2, newer than this actorflow"):
        replay.read_bundle(newer)
    assert_one_error_line(cli(["replay", "--bundle", str(newer)]), 1, "upgrade actorflow")


def test_r1_a_file_that_is_not_a_bundle_is_one_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bundle"
    junk.write_bytes(b"\x00not msgpack")
    assert_one_error_line(cli(["replay", "--bundle", str(junk)]), 1, "is not a replay bundle")
    assert_one_error_line(
        cli(["replay", "--bundle", str(tmp_path / "none.bundle")]), 1, "no bundle at"
    )


def test_r1_an_actor_kind_that_cannot_be_imported_is_one_error(
    bundle: Path, tmp_path: Path
) -> None:
    recording = replay.read_bundle(bundle)
    worker = recording.actors["worker-1"]
    recording.actors["worker-1"] = msgspec.structs.replace(worker, kind="gone.Worker")
    with pytest.raises(af.ReplayError, match=r"kind 'gone\.Worker' is not defined") as caught:
        anyio.run(replay.replay, recording)
    report = caught.value.report
    assert isinstance(report, replay.Replay)
    assert [f"{t.actor}#{t.turn}" for t in report.turns] == ["planner#1", "worker-1#1"]
    broken = tmp_path / "broken.bundle"
    replay.write_bundle(recording, broken)
    result = cli(["replay", "--bundle", str(broken)])
    assert result.exit_code == 1
    assert "planner#1 team.Task" in result.stdout  # the diff so far
    assert result.stderr.startswith("actorflow: error: actor worker-1: its kind 'gone.Worker'")
