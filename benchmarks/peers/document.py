"""docs/benchmarks.md: the machine, the versions, what each workload does, and this run's tables."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from .durable_child import KILL_AT_STEP
from .durable_workloads import FSYNCS
from .report import CONCURRENT_TARGETS, POSTGRES_TARGETS, Table, as_markdown
from .sizes import CONCURRENCY, STEPS, WARMUP, Sizes


def workloads_text(sizes: Sizes) -> str:
    """What each workload does, with this run's sizes, as a Markdown list wrapped at 100."""
    bullets = f"""\
- **Tell throughput** (msg/s): one actor counts `Ping` messages. After {WARMUP:,} warm-up tells,
  the clock runs over {sizes.tells:,} tells one after another and one ask queued behind them,
  so it stops only when every tell was handled. actorflow: an in-memory `ActorSystem` on uvloop,
  `await ref.tell()` and `await ref.ask()`. raw asyncio: an `asyncio.Queue` of the same capacity
  as an actor's mailbox and one consumer task, on uvloop: the floor a runtime on asyncio adds
  its cost to. Pykka: a `ThreadingActor` (its own thread), `ref.tell()` and `ref.ask()`.
  Thespian: `ActorSystem('simpleSystemBase')`, where actors run in the caller's thread and
  handle what was told while the caller waits in `ask`. Pykka's figure varies the most from run
  to run (from about 150k to 460k msg/s on this machine): the sender and the actor's thread
  share the GIL.
- **Ask round trip** (p50 in us, asks/s): {sizes.asks:,} asks one after another to the same
  counter, each timed; raw asyncio puts a `Future` on the queue and the consumer sets it.
- **Durable steps** (steps/s, p50 step to step in us): sequential workflows of {STEPS} steps,
  each step persisted in SQLite before the next one starts. The step body is the same trivial
  pure function everywhere (it returns a small dict), so the figures are each runtime's own
  cost of running a step and making its result durable. actorflow: a durable actor whose
  handler runs `await self.ctx.step(name, fn, i)` {STEPS} times, asked once per workflow, with
  the body declared `af.nonblocking(fn)`: a step calls it on the event loop, as DBOS and
  LangGraph call it in the caller's thread. The row "actorflow, step body in a worker thread"
  is the same body undeclared, which `ctx.step` runs in a worker thread (a plain function's
  default, for SDKs that block). LangGraph: a graph of {STEPS} nodes in a line compiled with
  `SqliteSaver`, invoked with `durability="sync"` (each checkpoint written before the next
  step). DBOS: a `@DBOS.workflow` calling {STEPS} `@DBOS.step`s, its system database on
  SQLite. All three commit to SQLite in WAL mode with `synchronous=FULL` (DBOS's file is
  switched to WAL first, as a user would; the rest are each system's defaults). Each system runs in
  a fresh process on a fresh database in a temporary directory; {sizes.warmup_workflows} warm-up
  workflow(s), then {sizes.workflows} timed ones. "Step to step" is the time from one step body's
  start to the next one's inside a workflow. The last row is the baseline of the target >= 0.5x: the
  disk's fsync rate, {FSYNCS:,} appends of 200 bytes each followed by `os.fsync`, in the same
  directory at the start of every round (its figure is fsyncs per second), as `make bench` measures
  it for `durable_sequential`. A step cannot cost less than one such durable write; a workflow of
  {STEPS} steps pays {STEPS + 2} commits (its message, each step, then the turn).
- **Concurrent durable steps** (steps/s, workflows/s, p50 workflow in ms): the same
  {STEPS}-step workflow and step body, {CONCURRENCY} workflows in flight at once. actorflow:
  {CONCURRENCY} durable actors, each asked by a task of its own for one workflow after
  another; the journal commits what they all recorded in shared transactions. LangGraph:
  {CONCURRENCY} Python threads invoking the same compiled graph, each on LangGraph threads of
  its own (one `SqliteSaver`, whose one connection is shared under its lock). DBOS:
  {CONCURRENCY} Python threads, each calling the `@DBOS.workflow` function. Same SQLite
  settings as above; a fresh process and database per system and round;
  {sizes.concurrent_warmup} warm-up workflow(s) per worker, then {sizes.concurrent_workflows}
  timed ones per worker ({CONCURRENCY * sizes.concurrent_workflows * STEPS:,} steps). "p50
  workflow" is the median time from asking for a workflow to its end, under that load. The
  last columns give actorflow's steps/s over each peer's, beside the targets
  ({", ".join(f">= {target:g}x {name}" for name, target in CONCURRENT_TARGETS.items())}).
- **Concurrent durable steps on PostgreSQL**: the same workload, actorflow and DBOS only (DBOS's
  home backend), on one throwaway local PostgreSQL 15 server started for the run (`fsync=on`,
  `synchronous_commit=on`), a fresh database per system and round, both over TCP to 127.0.0.1.
  actorflow: the same actors on a `PostgresJournal`; DBOS: its system database on the server.
  The target: actorflow
  {", ".join(f">= {target:g}x {name}" for name, target in POSTGRES_TARGETS.items())}.
- **Crash**: the same workflow in a subprocess whose step body appends a line to a side file
  each time it really runs. When step {KILL_AT_STEP} starts, it waits, and the parent SIGKILLs
  the process; a new process on the same database then resumes the workflow (actorflow: the
  journal re-delivers the pending message; LangGraph: `invoke(None, ...)` on the same
  thread; DBOS: `DBOS.launch()` recovers the pending workflow). The best a system can do is
  {STEPS + 1} step bodies for {STEPS} steps: step {KILL_AT_STEP} was running when the process
  died, so it never had a result to record and must run again; steps 1-{KILL_AT_STEP - 1} had
  finished and should not."""
    items = ("\n" + bullets).split("\n- ")[1:]
    return "\n".join(_wrap(item, initial_indent="- ", subsequent_indent="  ") for item in items)


def _wrap(text: str, **indents: str) -> str:
    """`text` re-wrapped at 100 columns, never breaking a word or a hyphenated name."""
    return textwrap.fill(
        " ".join(text.split()), 100, break_long_words=False, break_on_hyphens=False, **indents
    )


def write_document(
    path: Path,
    *,
    tables: Sequence[Table],
    crash: Table,
    sizes: Sizes,
    quick: bool,
    date: str,
    elapsed: float,
    machine: Sequence[str],
    versions: dict[str, str],
    chart_problem: str | None,
) -> None:
    """Rewrite `path` with this run's figures."""
    kind = "`make bench-peers` (`--quick`)" if quick else "`make bench-peers`"
    rounds = "one round" if sizes.rounds == 1 else f"the best of {sizes.rounds} rounds"
    parts = [
        "# Benchmarks: actorflow beside its peers",
        "",
        _wrap(
            f"The figures below come from one run of {kind} on {date}, on a noisy shared 2-core"
            f" machine; the run took {elapsed:.0f} s. Absolute figures there drift 20-40% from"
            " run to run, so read the ratios between systems in the same table rather than"
            f" comparing figures across runs. Each in-memory and durable figure is {rounds},"
            " and who goes first rotates from round to round. How to reproduce each number:"
            ' `benchmarks/README.md` in the repository (section "Peers").'
        ),
        "",
        "## Machine and versions",
        "",
        *[f"- {line}" for line in machine],
        "",
        "| package | version |",
        "|---|---|",
        *[f"| {name} | {version} |" for name, version in versions.items()],
        "",
        "## What each workload does",
        "",
        workloads_text(sizes),
        "",
        "## Results",
        "",
    ]
    if chart_problem is None:
        parts += ["![Throughput of each system in each workload](benchmarks.png)", ""]
    else:
        parts += [f"(The chart is missing from this run: {chart_problem}.)", ""]
    for table in tables:
        parts += [as_markdown(table), ""]
    parts += [as_markdown(crash), ""]
    path.write_text("\n".join(parts))
