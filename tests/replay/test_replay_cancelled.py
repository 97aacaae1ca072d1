"""R1 and cancels: a message cancelled in the record (``actorflow journal cancel``) was never
handled, so a replay does not handle it either, and that is no divergence."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import examples.cancelling  # noqa: F401  # its actor kinds, for the replay
import pytest

from actorflow import replay

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cancelling.py"


async def test_r1_cancelled_messages_are_not_replayed(tmp_path: Path) -> None:
    path = tmp_path / "cancelling.db"
    with anyio.fail_after(50):
        await anyio.run_process([sys.executable, str(EXAMPLE), str(path)])
    report = await replay.replay(path, "plan-1")
    assert not report.diverged, report.render()
    assert [f"{t.actor}#{t.turn}" for t in report.turns if t.lines][:1] == ["planner#1"]
    cancelled = [line for t in report.turns for line in t.lines if "cancelled by" in line.recorded]
    assert len(cancelled) == 4  # three steps and the reminder, as recorded: not handled
    assert {line.mark for line in cancelled} == {"="}
    assert all("example via python" in line.replayed for line in cancelled)
