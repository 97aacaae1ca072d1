"""Named crash points: places where a test can make the process die with SIGKILL.

Armed only through the environment, for crash tests in a child process:
``ACTORFLOW_CRASH_AT=commit.before_commit:3`` kills the process the 3rd time that point is
reached. Unarmed (always, outside such tests) a point costs one global lookup.
"""

from __future__ import annotations

import contextlib
import os
import signal

__all__ = ["POINTS", "crash_point", "crash_together_with"]

POINTS = frozenset(
    {
        "commit.before_commit",  # inside the transaction, every statement done, before COMMIT
        "commit.after_commit",  # COMMIT returned, nothing delivered or acknowledged yet
        "turn.after_handler",  # a durable handler returned; its commit not yet queued
        "step.after_record",  # a step's result committed; the rest of its handler not run
        "step.after_start",  # a step's started marker committed (T2); its call not made yet
    }
)


def _parse(spec: str) -> dict[str, int]:
    armed: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, count = item.partition(":")
        if name not in POINTS:
            raise ValueError(f"unknown crash point {name!r}; known: {', '.join(sorted(POINTS))}")
        armed[name] = int(count or "1")
    return armed


_armed = _parse(os.environ.get("ACTORFLOW_CRASH_AT", ""))
_together: list[int] = []  # processes killed first at a crash point: see `crash_together_with`


def crash_together_with(pid: int) -> None:
    """Kill process `pid` too at a crash point of this one: a helper process (the SQLite
    journal's writer process) dies with the process it serves, as a thread would. Each process
    counts its own arrivals at a point."""
    _together.append(pid)


def crash_point(name: str) -> None:
    """Die here with SIGKILL if this point is armed and its count has come."""
    if not _armed or name not in _armed:
        return
    _armed[name] -= 1
    if _armed[name] <= 0:
        for pid in _together:
            with contextlib.suppress(OSError):  # gone already
                os.kill(pid, signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
