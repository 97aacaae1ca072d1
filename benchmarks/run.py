"""Run actorflow's benchmarks, each beside its baseline, and print a table (or JSON).

    python benchmarks/run.py            # full run, a few minutes at most
    python benchmarks/run.py --quick    # under 30 s on 2 cores
    python benchmarks/run.py --json     # only a JSON array of rows on stdout
    python benchmarks/run.py --only recovery_time,outside_pickup_latency   # just these

Targets are reported, not asserted: the exit status is 0 unless the script itself fails.
See benchmarks/README.md for what each benchmark measures.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable, Sequence

import uvloop

import actorflow as af
from cancelling import outside_cancel_latency
from conversations import idle_conversations_memory
from durable import durable_many_senders, durable_sequential, durable_throughput, recovery_time
from harness import FULL, QUICK, Row, Sizes
from lifecycle import restart_cost, spawn_cost
from memory import idle_actor_memory
from messaging import PYKKA_MISSING, ask_latency, tell_throughput
from outside import outside_pickup_latency

Benchmark = Callable[[Sizes], Awaitable[list[Row]]]


def lazy(module: str, name: str) -> Benchmark:
    """The benchmark `name` of `module`, imported only when it runs.

    The integrations' benchmarks import the MCP SDK, Starlette, psycopg and the CLI: ~600
    modules and ~80k more objects for the cyclic garbage collector to walk on every full
    collection. Imported at the top, they made the core's rows pay for them (durable_throughput
    ran ~20% slower); imported here, and run last, they cost only their own rows.
    """

    async def benchmark(sizes: Sizes) -> list[Row]:
        run: Benchmark = getattr(importlib.import_module(module), name)
        return await run(sizes)

    benchmark.__name__ = name
    return benchmark


BENCHMARKS: Sequence[Benchmark] = (
    tell_throughput,
    ask_latency,
    spawn_cost,
    restart_cost,
    idle_actor_memory,
    durable_throughput,
    durable_sequential,
    durable_many_senders,
    recovery_time,
    idle_conversations_memory,
    outside_pickup_latency,
    outside_cancel_latency,
    # The integrations, last (see `lazy`).
    lazy("replaying", "replay_strict"),
    lazy("cli_views", "conversation_tree_chain"),
    lazy("web_ui", "ui_list_page"),
    lazy("mcp_calls", "mcp_call_overhead"),
    lazy("durable_postgres", "durable_throughput_postgres"),
    lazy("nodes_latency", "tell_across_nodes_latency"),
    lazy("durable_postgres_nodes", "durable_throughput_postgres_nodes"),
    lazy("durable_postgres_nodes", "cluster_failover"),
)

COLUMNS = ("name", "value", "unit", "baseline", "ratio", "target", "met")


async def run_all(
    benchmarks: Sequence[Benchmark], sizes: Sizes, progress: Callable[[str], None]
) -> list[Row]:
    rows: list[Row] = []
    for number, benchmark in enumerate(benchmarks, 1):
        progress(f"[{number}/{len(benchmarks)}] {benchmark.__name__}")
        rows += await benchmark(sizes)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="actorflow benchmarks, each beside a baseline")
    parser.add_argument("--quick", action="store_true", help="smaller sizes: under 30 s")
    parser.add_argument("--json", action="store_true", help="print only a JSON array of rows")
    parser.add_argument("--rounds", type=int, help="rounds per measurement (best one kept)")
    parser.add_argument(
        "--only",
        metavar="NAME[,NAME]",
        help="run only these benchmarks, named by their first row: "
        + ", ".join(b.__name__ for b in BENCHMARKS),
    )
    args = parser.parse_args(argv)
    benchmarks = BENCHMARKS
    if args.only is not None:
        by_name = {benchmark.__name__: benchmark for benchmark in BENCHMARKS}
        names = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in names if name not in by_name]
        if unknown or not names:
            parser.error(
                f"--only: unknown benchmark {', '.join(unknown) or '(none given)'};"
                f" choose from {', '.join(by_name)}"
            )
        benchmarks = [benchmark for benchmark in BENCHMARKS if benchmark.__name__ in names]
    sizes = QUICK if args.quick else FULL
    if args.rounds is not None:
        sizes = dataclasses.replace(sizes, rounds=max(1, args.rounds))

    # A failing handler is the point of restart_cost: keep its error logs out of the report.
    logging.getLogger("actorflow").setLevel(logging.CRITICAL)

    def progress(line: str) -> None:
        if not args.json:
            print(line, file=sys.stderr, flush=True)

    started = time.perf_counter()
    with af.tuned_collector():  # as `actorflow run` runs a system
        rows = uvloop.run(run_all(benchmarks, sizes, progress))
    elapsed = time.perf_counter() - started

    if args.json:
        print(json.dumps([row.to_json() for row in rows], indent=2))
    else:
        print_report(rows, sizes, quick=args.quick, elapsed=elapsed)
    return 0


def print_report(rows: Sequence[Row], sizes: Sizes, *, quick: bool, elapsed: float) -> None:
    print(
        f"actorflow {af.__version__} benchmarks: {'quick' if quick else 'full'} run,"
        f" best of {sizes.rounds} round(s); Python {platform.python_version()},"
        f" uvloop {uvloop.__version__}, {os.cpu_count()} CPUs"
    )
    if PYKKA_MISSING is not None:
        print(PYKKA_MISSING)
    print()
    cells = [COLUMNS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    for line in cells:
        print(
            "  ".join(
                cell.ljust(width) if i in (0, 2, 5) else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )
    print()
    print(
        "ratio = value / baseline; a target applies to the ratio when there is a baseline,"
        " unless it says (value)."
    )
    for row in rows:
        if row.note:
            print(f"  {row.name}: {row.note}")
    print(f"finished in {elapsed:.1f} s")


def _cells(row: Row) -> tuple[str, ...]:
    met = "-" if row.met is None else ("yes" if row.met else "NO")
    ratio = "-" if row.ratio is None else f"{row.ratio:.2f}"
    return (
        row.name,
        _number(row.value),
        row.unit,
        _number(row.baseline),
        ratio,
        str(row.target),
        met,
    )


def _number(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 1_000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


if __name__ == "__main__":
    sys.exit(main())
