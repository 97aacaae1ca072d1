"""Every file in examples/ runs, as the docs quote it (STYLE: examples are runnable docs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

EXPECTED = {
    "hello.py": ["1: you asked 'hi'", "<ActorRef agent/42 running mailbox 0/1000>"],
    "supervision.py": [
        "dead letter: tool Call(query='poison') after 2 attempts",
        "plan for 'write a sonnet' using 'result for write a sonnet'",
    ],
}


def test_every_example_is_covered() -> None:
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(EXPECTED)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for line in EXPECTED[name]:
        assert line in result.stdout.splitlines(), result.stdout
