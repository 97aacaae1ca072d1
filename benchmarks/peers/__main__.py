"""Run every peer workload in one go, print the tables, and rewrite docs/benchmarks.md.

    python -m benchmarks.peers            # the full run: a few minutes on 2 cores
    python -m benchmarks.peers --quick    # smaller sizes, one round
    python -m benchmarks.peers --no-docs  # print only; leave docs/ as it is

Run it from the repository's root in ``.venv-peers`` (``make bench-peers`` does both).
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .chart import write_chart
from .crash import crash_test
from .document import write_document
from .durable_workloads import FSYNC, concurrent_steps, concurrent_steps_postgres, durable_steps
from .machine import machine_lines, versions
from .memory_workloads import ask_round_trip, tell_throughput
from .report import (
    as_text,
    ask_table,
    concurrent_table,
    crash_table,
    durable_table,
    postgres_concurrent_table,
    tell_table,
)
from .sizes import CONCURRENCY, FULL, QUICK, STEPS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.peers", description="actorflow beside its peers"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one round")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.*")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    logging.getLogger("actorflow").setLevel(logging.CRITICAL)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = time.perf_counter()
    progress("[1/6] in memory: tell throughput")
    tell = tell_throughput(sizes)
    progress("[2/6] in memory: ask round trip")
    ask = ask_round_trip(sizes)
    with tempfile.TemporaryDirectory(prefix="actorflow-peers-") as scratch:
        progress("[3/6] durable steps (a subprocess per system and round)")
        durable = durable_steps(sizes, Path(scratch))
        progress(f"[4/6] durable steps, {CONCURRENCY} concurrent workflows (likewise)")
        concurrent = concurrent_steps(sizes, Path(scratch))
        progress("[5/6] the same on PostgreSQL: actorflow and DBOS on one local server")
        on_postgres = concurrent_steps_postgres(sizes)
        progress("[6/6] crash: SIGKILL mid-workflow, then resume")
        crash = crash_test(Path(scratch))
    elapsed = time.perf_counter() - started

    tables = [
        tell_table(tell),
        ask_table(ask),
        durable_table(durable, FSYNC),
        concurrent_table(concurrent),
        postgres_concurrent_table(on_postgres),
    ]
    crashed = crash_table(crash)
    machine = machine_lines()
    found = versions()
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"actorflow beside its peers: {'quick' if args.quick else 'full'} run, {date}")
    print("; ".join(machine))
    print("versions: " + ", ".join(f"{name} {version}" for name, version in found.items()))
    for table in [*tables, crashed]:
        print()
        print(as_text(table))
    print()
    print(f"finished in {elapsed:.0f} s")

    if not args.no_docs:
        chart_problem = write_chart(
            DOCS / "benchmarks.png",
            [
                ("In memory: tells per second", "msg/s", tell),
                ("In memory: asks per second (one at a time)", "asks/s", ask),
                (
                    f"Durable: steps per second ({STEPS}-step workflows on SQLite)",
                    "steps/s",
                    [outcome for outcome in durable if outcome.system != FSYNC],
                ),
                (
                    f"Durable: steps per second, {CONCURRENCY} concurrent {STEPS}-step workflows",
                    "steps/s",
                    concurrent,
                ),
            ],
            subtitle=f"make bench-peers{' --quick' if args.quick else ''}, {date},"
            f" {machine[0].removeprefix('CPU: ')}",
        )
        if chart_problem is not None:
            print(chart_problem)
        write_document(
            DOCS / "benchmarks.md",
            tables=tables,
            crash=crashed,
            sizes=sizes,
            quick=args.quick,
            date=date,
            elapsed=elapsed,
            machine=machine,
            versions=found,
            chart_problem=chart_problem,
        )
        print(f"wrote {DOCS / 'benchmarks.md'} and {DOCS / 'benchmarks.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
