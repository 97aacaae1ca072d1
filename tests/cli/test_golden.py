"""Golden output of the reading commands at 80 and 200 columns (U1, P2).

Each case runs a command on the example journal (`support.build`: fixed ids and times) with
``ACTORFLOW_WIDTH`` set, and compares its stdout with ``tests/cli/golden/<case>-<width>.txt``.
What differs between machines is normalised first: the journal's path, its size, and the paths
and line numbers in a traceback.

To regenerate the files after a deliberate change of the output, run::

    ACTORFLOW_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/cli/test_golden.py

and review the diff (``git diff tests/cli/golden``) before committing it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from actorflow.cli._output import WIDTH_VARIABLE

from .support import cli, long_ids

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).resolve().parents[2]
REGENERATE = os.environ.get("ACTORFLOW_REGENERATE_GOLDEN") == "1"

CASES = {
    "stats": ["stats"],
    "actors": ["actors"],
    "messages": ["messages"],
    "show": ["show", "m-04"],
    "conversation": ["conversation", "m-02"],
    "dead": ["dead"],
    "tail": ["tail"],
    "conversations": ["conversations"],
    "requeue-dry-run": ["requeue", "--all", "--dry-run"],
    "cancel-dry-run": ["cancel", "m-05", "--dry-run"],
}

LONG_ID_CASES = {
    "messages-long-ids": ["messages"],
    "conversation-long-ids": ["conversation", "6b0ea64b1a49e6775800000002"],
    "dead-long-ids": ["dead"],
    "conversations-long-ids": ["conversations"],
    "requeue-dry-run-long-ids": ["requeue", "--all", "--dry-run"],
}
"""The same commands with ids as long as the runtime makes them (26 characters)."""


STEPS_CASES = {
    "steps": ["steps", "--conversation", "s-01"],
    "steps-full": ["steps", "s-02", "--full"],
    "show-steps": ["show", "s-02"],
    "timers": ["timers"],
}
"""Commands on the journal with recorded steps and a pending timer (`support.build_steps`)."""


def normalised(text: str, journal: Path) -> str:
    text = text.replace(str(journal), "<journal>")
    text = re.sub(r"^size( +).*$", r"size\1<size>", text, flags=re.MULTILINE)
    text = text.replace(str(ROOT), "<root>")
    return re.sub(r'(File "[^"]*", line )\d+', r"\1N", text)


def check(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: regenerate with ACTORFLOW_REGENERATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{path} differs (see this module's doc)"


def output(journal: Path, width: int, args: list[str]) -> str:
    result = cli(["journal", *args, "--journal", str(journal)], env={WIDTH_VARIABLE: str(width)})
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return normalised(result.stdout, journal)


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("case", list(CASES))
def test_u1_golden_output(journal: Path, case: str, width: int) -> None:
    text = output(journal, width, CASES[case])
    check(f"{case}-{width}", text)


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("case", list(LONG_ID_CASES))
def test_u1_golden_output_with_runtime_ids(journal: Path, case: str, width: int) -> None:
    long_ids(journal)
    text = output(journal, width, LONG_ID_CASES[case])
    check(f"{case}-{width}", text)


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("case", list(STEPS_CASES))
def test_u1_golden_output_of_steps_and_timers(steps_journal: Path, case: str, width: int) -> None:
    text = output(steps_journal, width, STEPS_CASES[case])
    check(f"{case}-{width}", text)


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.txt")), ids=lambda p: p.name)
def test_golden_tables_fit_their_width(path: Path) -> None:
    """A table line is never wider than the width it was drawn for (blocks and fields may be)."""
    width = int(path.stem.rsplit("-", 1)[1])
    lines = path.read_text(encoding="utf-8").splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("─")]
    for i in rules:
        table = lines[i - 1 :]
        assert all(len(line) <= width for line in table), path
