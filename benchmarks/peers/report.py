"""The tables: as text on stdout, and as Markdown in docs/benchmarks.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .durable_child import KILL_AT_STEP
from .results import CrashOutcome, Outcome
from .sizes import CONCURRENCY, STEPS

BASELINE = "raw asyncio"

CONCURRENT_TARGETS = {"DBOS": 20.0, "LangGraph": 10.0}
"""How many times each peer's steps/s actorflow should reach with concurrent workflows."""

POSTGRES_TARGETS = {"DBOS": 5.0}
"""The same on PostgreSQL, DBOS's home backend (issue 15)."""

SEQUENTIAL_TARGETS = {"DBOS": 4.0}
"""How many times DBOS's steps/s actorflow should reach with sequential workflows (issue 16)."""

FSYNC_TARGET = 0.5
"""actorflow's sequential steps/s over the disk's fsync rate, measured in the same run."""


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table of strings; rows whose system could not run carry the reason instead."""

    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)


def number(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 1_000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _metric_rows(
    outcomes: Sequence[Outcome], columns: Sequence[str], ratio_of: str | None = None
) -> list[tuple[str, ...]]:
    """One row per outcome: its metrics in `columns` order, then `ratio_of` / the baseline's."""
    baseline = next((o for o in outcomes if o.system == BASELINE and not o.problem), None)
    rows = []
    for outcome in outcomes:
        if outcome.problem is not None:
            blanks = len(columns) + (ratio_of is not None) - 1
            rows.append((outcome.system, outcome.problem, *["-"] * blanks))
            continue
        cells = [number(outcome.metrics.get(column)) for column in columns]
        if ratio_of is not None:
            base = baseline.metrics.get(ratio_of) if baseline else None
            value = outcome.metrics.get(ratio_of)
            cells.append(f"{value / base:.2f}x" if value and base else "-")
        rows.append((outcome.system, *cells))
    return rows


def tell_table(outcomes: Sequence[Outcome]) -> Table:
    return Table(
        "In memory: tell throughput (one actor)",
        ("system", "msg/s", f"msg/s vs {BASELINE}"),
        _metric_rows(outcomes, ("msg/s",), ratio_of="msg/s"),
    )


def ask_table(outcomes: Sequence[Outcome]) -> Table:
    return Table(
        "In memory: ask round trip (one actor, one ask at a time)",
        ("system", "p50 (us)", "asks/s", f"p50 vs {BASELINE}"),
        _metric_rows(outcomes, ("p50 us", "asks/s"), ratio_of="p50 us"),
    )


def durable_table(outcomes: Sequence[Outcome], fsync: str) -> Table:
    """The sequential workload, with actorflow's steps/s over each row's: the peers', and the
    disk's fsync rate (the outcome named `fsync`), each beside its target."""
    return Table(
        f"Durable: {STEPS}-step workflows, every step persisted before the next (SQLite)",
        (
            "system",
            "steps/s",
            "p50 step to step (us)",
            "workflows/s",
            "actorflow steps/s vs this",
            "target",
        ),
        _against_ours(
            outcomes,
            ("steps/s", "p50 step us", "workflows/s"),
            {**SEQUENTIAL_TARGETS, fsync: FSYNC_TARGET},
            digits=2,
        ),
    )


def concurrent_table(
    outcomes: Sequence[Outcome],
    *,
    backend: str = "SQLite",
    targets: dict[str, float] = CONCURRENT_TARGETS,
) -> Table:
    """The concurrent workload, with actorflow's steps/s over each peer's and its target."""
    return Table(
        f"Durable: {CONCURRENCY} concurrent {STEPS}-step workflows, every step persisted before"
        f" the next ({backend})",
        (
            "system",
            "steps/s",
            "workflows/s",
            "p50 workflow (ms)",
            "actorflow steps/s vs this",
            "target",
        ),
        _against_ours(outcomes, ("steps/s", "workflows/s", "p50 workflow ms"), targets, digits=1),
    )


def _against_ours(
    outcomes: Sequence[Outcome],
    columns: Sequence[str],
    targets: dict[str, float],
    *,
    digits: int,
) -> list[tuple[str, ...]]:
    """One row per outcome: its metrics in `columns` order, actorflow's steps/s over its own,
    and its target (the least that ratio should be), met or not."""
    ours = next((o for o in outcomes if o.system == "actorflow" and not o.problem), None)
    ours_rate = ours.metrics.get("steps/s") if ours else None
    rows = []
    for outcome in outcomes:
        target = targets.get(outcome.system)
        wanted = "-" if target is None else f">= {target:g}x"
        if outcome.problem is not None:
            rows.append((outcome.system, outcome.problem, *["-"] * len(columns), wanted))
            continue
        rate = outcome.metrics.get("steps/s")
        ratio = "-"
        if outcome.system != "actorflow" and rate and ours_rate:
            ratio = f"{ours_rate / rate:.{digits}f}x"
            if target is not None:
                wanted += ": met" if ours_rate / rate >= target else ": not met"
        figures = [number(outcome.metrics.get(column)) for column in columns]
        rows.append((outcome.system, *figures, ratio, wanted))
    return rows


def postgres_concurrent_table(outcomes: Sequence[Outcome]) -> Table:
    """The concurrent workload on one PostgreSQL server: actorflow beside DBOS."""
    return concurrent_table(outcomes, backend="PostgreSQL", targets=POSTGRES_TARGETS)


def crash_table(outcomes: Sequence[CrashOutcome]) -> Table:
    rows = []
    for outcome in outcomes:
        if outcome.problem is not None and outcome.executions is None:
            rows.append((outcome.system, "-", "-", "-", outcome.problem))
            continue
        rows.append(
            (
                outcome.system,
                "yes" if outcome.completed else "NO",
                f"{outcome.executions} for {STEPS} steps",
                _ranges(outcome.repeated) if outcome.repeated else "none",
                crash_verdict(outcome),
            )
        )
    return Table(
        f"Crash: SIGKILL while step {KILL_AT_STEP} of {STEPS} runs, then restart on the same"
        " database",
        ("system", "completed", "step bodies run", "finished steps re-run", "what happened"),
        rows,
    )


def crash_verdict(outcome: CrashOutcome) -> str:
    """A sentence on what a system did, from its counts alone."""
    if outcome.problem is not None:
        return outcome.problem
    if not outcome.completed:
        return "the restarted process did not complete the workflow"
    if outcome.repeated:
        return (
            f"resumed, but re-ran step(s) {_ranges(outcome.repeated)} that had finished before"
            " the kill"
        )
    extra = (outcome.executions or 0) - STEPS
    if extra == 1:
        return (
            f"resumed after the last recorded step: only step {KILL_AT_STEP}, in flight at the"
            " kill, ran twice"
        )
    return f"resumed; {extra} step bodies ran more than once"


def _ranges(steps: Sequence[int]) -> str:
    """``[1, 2, 3, 5]`` as ``1-3, 5``."""
    parts: list[str] = []
    start = previous = steps[0]
    for step in [*steps[1:], None]:
        if step is not None and step == previous + 1:
            previous = step
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if step is not None:
            start = previous = step
    return ", ".join(parts)


# -- rendering ---------------------------------------------------------------------------------


def as_text(table: Table) -> str:
    """The table aligned in columns: text left, figures right."""
    lines = [table.headers, *table.rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(table.headers))]
    numeric = _numeric_columns(table)
    out = [table.title, "-" * len(table.title)]
    for line in lines:
        cells = [
            cell.rjust(width) if numeric[i] and not _is_text(cell) else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def as_markdown(table: Table) -> str:
    """The table in GitHub Markdown, figures right-aligned, under a level-3 title."""
    align = ["---:" if flag else "---" for flag in _numeric_columns(table)]
    lines = [
        f"### {table.title}",
        "",
        "| " + " | ".join(table.headers) + " |",
        "|" + "|".join(align) + "|",
    ]
    lines += [
        "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table.rows
    ]
    return "\n".join(lines)


def _numeric_columns(table: Table) -> list[bool]:
    """Which columns hold figures (right-aligned): any of its cells is a number."""
    return [
        i > 0 and any(row[i] != "-" and not _is_text(row[i]) for row in table.rows)
        for i in range(len(table.headers))
    ]


def _is_text(cell: str) -> bool:
    return not (cell == "-" or cell.rstrip("x").replace(",", "").replace(".", "").isdigit())
