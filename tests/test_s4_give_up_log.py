"""When the root gives up under `af.run` (S4), stderr ends with the one line that says why, and
what led there reads one record per line: the error that kept repeating shows its traceback
once, not once per dead letter (S7: logged once)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TRACEBACK = "Traceback (most recent call last)"
# The default format of `af.run`'s log lines: "2025-01-01 12:00:00,123 ERROR actorflow: ...".
RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ actorflow")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("journaled", [False, True], ids=["in-memory", "journaled"])
def test_s4_when_the_root_gives_up_under_run_stderr_ends_with_one_give_up_line(
    journaled: bool, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "tests.apps.give_up"]
    if journaled:
        command.append(str(tmp_path / "give_up.db"))
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=30)
    err = proc.stderr
    assert proc.returncode == 1, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, err
    last = lines[-1]
    assert RECORD.match(last), last
    assert "supervisor root gave up" in last, last
    repeated = [line for line in lines if line.count("restarts within") > 1]
    assert repeated == [], repeated
    assert err.count(TRACEBACK) == 1, f"{err.count(TRACEBACK)} tracebacks"
    # One record per line, except the one traceback: from its first line up to the next record.
    start = next(i for i, line in enumerate(lines) if TRACEBACK in line)
    end = next((i for i in range(start + 1, len(lines)) if RECORD.match(lines[i])), len(lines))
    assert end < len(lines), err  # the traceback is not what stderr ends with
    others = lines[:start] + lines[end:]
    assert [line for line in others if not RECORD.match(line)] == [], err
    assert len([line for line in lines if "dead-lettered" in line]) >= 2, err  # several of them
    # S4: the one line names the actor whose failure it was, and the error.
    assert "team/p" in last, last
    assert "RuntimeError: poisoned" in last, last
