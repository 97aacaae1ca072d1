"""The step every durable workflow runs, on every system: a trivial pure function.

Its body costs well under a microsecond, so a workflow's time is the runtime's own: running
the step and persisting its result before the next one starts. Each call notes when it started
(`STARTS`) and calls `on_step` when one is set; the crash test uses that to count real
executions in a side file.
"""

from __future__ import annotations

from collections.abc import Callable

from .results import now_ns

STARTS: list[int] = []
"""``perf_counter_ns`` at the start of every step body run in this process, in order."""

on_step: Callable[[int], None] | None = None
"""Called with the step's index each time a step body really runs (not replayed)."""


def step_body(index: int) -> dict[str, object]:
    """The work of step `index`: a small dict, as a tool or model call might return."""
    STARTS.append(now_ns())
    if on_step is not None:
        on_step(index)
    return {"step": index, "output": f"result of step {index}"}
