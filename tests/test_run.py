"""`actorflow.run` in a real process: signals and exit statuses (P1, S4, S8)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def start(mode: str, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.apps.signals", mode, *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "ready":
            return proc
    proc.kill()
    raise AssertionError(f"the app never got ready: {proc.communicate()}")


@pytest.mark.timeout(30)
def test_p1_sigterm_lets_the_current_message_finish_and_exits_0() -> None:
    proc = start("graceful")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out.splitlines()[-3:] == ["worked", "stop worker", "returned"]
    assert "SIGTERM received: stopping gracefully" in err


@pytest.mark.timeout(30)
def test_p1_a_second_signal_stops_at_once_with_128_plus_the_signal() -> None:
    proc = start("stuck")
    proc.send_signal(signal.SIGTERM)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "stopping gracefully" in line:
            break
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "worked" not in out
    assert "stop worker" in out  # on_stop still ran once
    assert "received again: stopping at once" in err


@pytest.mark.timeout(30)
@pytest.mark.parametrize("journaled", [False, True], ids=["memory", "journal"])
def test_s4_when_the_root_gives_up_the_process_exits_1_with_one_line_saying_why(
    journaled: bool, tmp_path: Path
) -> None:
    proc = start("give-up", *([str(tmp_path / "j.db")] if journaled else []))
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 1
    gave_up = [line for line in err.splitlines() if "gave up" in line]
    assert len(gave_up) == 1
    assert "supervisor root gave up: actor worker failed with RuntimeError" in gave_up[0]
    assert "Traceback" not in err.split("gave up")[-1]
    assert "returned" not in out


def test_run_returns_mains_result_and_raises_mains_exception_as_itself() -> None:
    import actorflow as af

    async def answer(system: af.ActorSystem) -> int:
        return 42

    async def broken(system: af.ActorSystem) -> None:
        raise KeyError("missing")

    assert af.run(answer, handle_signals=False) == 42
    with pytest.raises(KeyError, match="missing"):
        af.run(broken, handle_signals=False)
