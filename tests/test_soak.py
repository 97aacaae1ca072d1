"""A quick-size run of the durable soak (``make soak``): it finishes and its verdict reads right."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

VERDICT = re.compile(
    r"messages=(?P<messages>\d+) rss_first_mb=\d+\.\d rss_last_mb=\d+\.\d"
    r" growth_after_warmup_mb=-?\d+\.\d bound_mb=\d+(\.\d+)? journal_last_mb=\d+\.\d"
    r" flat=(yes|no)"
)
SAMPLE = re.compile(r"sample=\d+ messages=\d+ rss_mb=\d+\.\d journal_mb=\d+\.\d wal_mb=\d+\.\d")


@pytest.mark.timeout(120)
def test_soak_at_a_tiny_size_ends_with_its_verdict_line() -> None:
    done = subprocess.run(
        [sys.executable, "benchmarks/soak.py", "--messages", "2000", "--actors", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    verdict = VERDICT.fullmatch(lines[-1])
    assert verdict is not None, lines[-1]
    assert verdict["messages"] == "2000"
    samples = [line for line in lines if line.startswith("sample=")]
    assert len(samples) == 20  # every 100 messages: a twentieth of the total
    assert all(SAMPLE.match(line) for line in samples), samples
