"""docs/benchmarks.png: a bar chart of each system's throughput in each workload."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .results import Outcome

LOG_SCALE_SPREAD = 20.0
"""A panel switches to a log scale when its largest bar is this many times its smallest."""

COLORS = {"actorflow": "#1f77b4", "actorflow, step body in a worker thread": "#9ecae1"}
OTHERS = "#8c8c8c"


def write_chart(
    path: Path, panels: Sequence[tuple[str, str, Sequence[Outcome]]], subtitle: str
) -> str | None:
    """Draw one horizontal bar panel per (title, metric, outcomes); None, or why no chart."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import EngFormatter
    except ImportError as error:
        return f"no chart: matplotlib is not importable ({error})"

    figure, axes = plt.subplots(len(panels), 1, figsize=(8, 2.3 * len(panels) + 0.6))
    for axis, (title, metric, outcomes) in zip(axes, panels, strict=True):
        measured = [o for o in outcomes if o.problem is None and o.metrics.get(metric)]
        names = [o.system for o in measured][::-1]
        values = [o.metrics[metric] for o in measured][::-1]
        axis.barh(names, values, color=[COLORS.get(n, OTHERS) for n in names])
        if values and max(values) / min(values) >= LOG_SCALE_SPREAD:
            axis.set_xscale("log")
            title += " (log scale)"
        for y, value in enumerate(values):
            axis.annotate(
                f" {value:,.0f}", (value, y), va="center", fontsize=8, annotation_clip=False
            )
        missing = [o.system for o in outcomes if o not in measured]
        if missing:
            title += f"; not measured: {', '.join(missing)}"
        axis.set_title(title, fontsize=10, loc="left")
        axis.xaxis.set_major_formatter(EngFormatter())
        axis.set_xlabel(metric, fontsize=8)
        axis.tick_params(labelsize=8)
        axis.margins(x=0.15)
    figure.suptitle(subtitle, fontsize=9, y=0.995)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None
