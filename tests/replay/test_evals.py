"""Evals (R1): examples/evals/ replayed as a suite, scored, held to its saved baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from examples.research_team import Planner, Research, Task, llm

from ..cli.support import assert_one_error_line, cli

EVALS = Path(__file__).resolve().parents[2] / "examples" / "evals"
SUITE = [
    "replay",
    "--suite",
    str(EVALS / "bundles"),
    "--scorer",
    "examples.evals.scorer:score",
    "--live",
    "plan,llm,write",
]


def test_r1_the_example_suite_holds_its_baseline() -> None:
    result = cli([*SUITE, "--baseline", str(EVALS / "baseline.json")])
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "bundle",
        "turns",
        "diverged",
        "covered",
        "same_report",
        "sourced",
        "stable",
    ]
    assert [line.split()[0] for line in lines[2:]] == [
        "task-1.bundle",
        "task-2.bundle",
        "task-3.bundle",
        "total",
    ]
    assert lines[-1].split() == ["total", "1.000", "1.000", "1.000", "1.000"]


def test_r1_a_changed_prompt_lists_its_regressions_first_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async def on_task(self: Planner, msg: Task) -> None:
        plan = await self.ctx.step("plan", llm, f"plan: {msg.topic} in depth")
        self.state.topic, self.state.questions = msg.topic, plan.split("|")
        for i, question in enumerate(self.state.questions):
            await self.ctx.system.lookup(f"worker-{i % 2 + 1}").tell(Research(question))

    monkeypatch.setattr(Planner, "on_task", on_task)
    saved = tmp_path / "now.json"
    result = cli([*SUITE, "--baseline", str(EVALS / "baseline.json"), "--save", str(saved)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "8 regression(s) against the baseline:"
    assert [line.split()[:2] for line in lines[1:9]] == [
        [bundle, score]
        for bundle in ("task-1.bundle", "task-2.bundle", "task-3.bundle", "total")
        for score in ("same_report", "stable")
    ]
    assert lines[1].split()[2:] == ["1.000", "->", "0.000"]
    assert lines[9].split()[0] == "bundle"  # then the table
    now = json.loads(saved.read_text())
    assert (now["total"]["same_report"], now["total"]["covered"]) == (0.0, 1.0)
    assert len(now["regressions"]) == 8


def test_r1_suite_bad_input_is_one_line(tmp_path: Path) -> None:
    assert_one_error_line(cli([*SUITE[:2], str(tmp_path), *SUITE[3:]]), 1, "no *.bundle files")
    assert_one_error_line(
        cli([*SUITE[:3], "--scorer", "no_such_module:score"]), 1, "cannot import no_such_module"
    )
    assert_one_error_line(cli(SUITE[:3]), 2, "--suite needs --scorer")
    assert_one_error_line(
        cli([*SUITE, "--baseline", str(tmp_path / "none.json")]), 1, "no baseline at"
    )
