"""Memory of many idle durable conversations with passivation, and the cost of resuming one.

The measurement runs in a fresh interpreter, so that memory left by earlier benchmarks does not
count. Run as a script, this module is that probe::

    python benchmarks/conversations.py COUNT

It starts an `ActorSystem` on a journal in a fresh temporary directory and plays a chat server
whose sessions come and go: COUNT durable `Session` actors (``chat-0`` ...), spawned with
``passivate_after`` and asked once each, in waves of `WAVE` at a time. Once every session is
passivated it reads the RSS, then resumes `RESUMES` random sessions (spawn by name + one ask)
one after another, and prints what it found as JSON.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import random
import sqlite3
import statistics
import sys
from pathlib import Path
from typing import TypedDict, cast

import anyio
import uvloop

import actorflow as af
from actorflow.journal import SQLiteJournal
from durable import scratch_directory
from harness import REPORT, Row, Sizes, at_most, expect, now_ns
from memory import rss_bytes

WAVE = 1_000
"""Sessions spawned and asked concurrently at a time."""

PASSIVATE_AFTER = 0.05
"""Seconds a session stays in memory after its last message."""

HISTORY = 5
"""Messages a session keeps in its state."""

RESUMES = 200
"""Passivated sessions resumed, one after another, for `idle_conversations_resume`."""

PASSIVATION_TIMEOUT = 300.0
"""Seconds the sessions may take to passivate before the probe fails."""

PROBE_TIMEOUT = 1_800.0
"""Seconds the whole probe may take before the run fails instead of waiting for ever."""

MB = 1024 * 1024


class Found(TypedDict):
    """What the probe prints (as JSON): sizes in MB, times in seconds and milliseconds."""

    rss_mb: float
    writer_rss_mb: float
    wave_rss_mb: float
    last_wave_rss_mb: float
    start_rss_mb: float
    journal_conversations: int
    spawn_seconds: float
    passivate_seconds: float
    resume_ms: list[float]


class Say(af.Message, tag="bench.Say"):
    """A user's line in a chat session; the reply is how many lines the session remembers."""

    text: str


class History(af.State):
    """A chat session's state: its last `HISTORY` lines."""

    lines: list[str] = []


class Session(af.Actor[History], kind="bench.session"):
    """A chat session that remembers its last few lines."""

    def on_say(self, msg: Say) -> int:
        lines = self.state.lines
        lines.append(msg.text)
        del lines[:-HISTORY]
        return len(lines)


async def idle_conversations_memory(sizes: Sizes) -> list[Row]:
    count = sizes.conversations
    found = await probe(count)
    resume_ms = found["resume_ms"]
    note = (
        f"{count:,} durable sessions spawned with passivate_after={PASSIVATE_AFTER:g} s and"
        f" asked once each, {WAVE:,} at a time, all passivated, then gc.collect(); RSS of the"
        f" process and its journal's writer process ({found['writer_rss_mb']:.1f} MB of it);"
        f" RSS right"
        f" after the last wave of spawns {found['last_wave_rss_mb']:.1f} MB (highest after a"
        f" wave {found['wave_rss_mb']:.1f} MB), before the first {found['start_rss_mb']:.1f} MB;"
        f" {found['journal_conversations']:,} conversations in the journal; spawns"
        f" {found['spawn_seconds']:.1f} s + passivation {found['passivate_seconds']:.1f} s"
    )
    resume_note = (
        f"one spawn by name + ask to a passivated session, {len(resume_ms)} random ones out of"
        f" {count:,}, one after another; p90 {_percentile(resume_ms, 0.9):.2f} ms,"
        f" max {max(resume_ms):.2f} ms"
    )
    return [
        Row("idle_conversations_memory", found["rss_mb"], "MB", at_most(300), note=note),
        Row(
            "idle_conversations_resume",
            statistics.median(resume_ms),
            "ms",
            REPORT,
            note=resume_note,
        ),
    ]


async def probe(count: int) -> Found:
    """Run this module as a script in a new interpreter and return what it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, str(count), stdout=asyncio.subprocess.PIPE
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), PROBE_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise RuntimeError(f"conversations probe {count} took over {PROBE_TIMEOUT:g} s") from None
    if process.returncode != 0:
        raise RuntimeError(f"conversations probe {count} exited {process.returncode}")
    return cast(Found, json.loads(out))


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# -- the probe (in its own process) ------------------------------------------------------------


async def measure(count: int) -> Found:
    with scratch_directory() as directory:
        path = directory / "conversations.db"
        journal = SQLiteJournal(path)
        async with af.ActorSystem(journal=journal) as system:
            gc.collect()
            start_rss = rss_bytes()
            start = now_ns()
            wave_rss = 0  # the highest RSS right after a wave of spawns
            for first in range(0, count, WAVE):
                async with anyio.create_task_group() as tg:
                    for i in range(first, min(first + WAVE, count)):
                        tg.start_soon(converse, system, f"chat-{i}", 1)
                wave_rss = max(wave_rss, rss_bytes())
            spawned = now_ns()
            last_wave_rss = rss_bytes()
            with anyio.fail_after(PASSIVATION_TIMEOUT):
                # The public API has no event for "all passivated": check the condition often.
                while system.actors():  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            passivated = now_ns()
            gc.collect()
            writer = journal.writer_pid  # the writer process, if large commits started it
            writer_rss = 0 if writer is None else rss_bytes(writer)
            rss = rss_bytes() + writer_rss
            conversations = journal_sessions(path)
            resume_ms = []
            for i in random.Random(0).sample(range(count), min(RESUMES, count)):
                started = now_ns()
                await converse(system, f"chat-{i}", 2)
                resume_ms.append((now_ns() - started) / 1e6)
    expect("conversations in the journal", conversations, count)
    return {
        "rss_mb": rss / MB,
        "writer_rss_mb": writer_rss / MB,
        "wave_rss_mb": wave_rss / MB,
        "last_wave_rss_mb": last_wave_rss / MB,
        "start_rss_mb": start_rss / MB,
        "journal_conversations": conversations,
        "spawn_seconds": (spawned - start) / 1e9,
        "passivate_seconds": (passivated - spawned) / 1e9,
        "resume_ms": resume_ms,
    }


async def converse(system: af.ActorSystem, name: str, remembered: int) -> None:
    """Spawn (or bring back) session `name` and say one line to it."""
    session = await system.spawn(Session, name=name, passivate_after=PASSIVATE_AFTER)
    lines = await session.ask(Say(f"hello from {name}"), expect=int)
    expect(f"lines {name} remembers", lines, remembered)


def journal_sessions(path: Path) -> int:
    """How many sessions the journal holds, read by plain sqlite3 beside the running system."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        (sessions,) = conn.execute(
            "SELECT count(*) FROM actors WHERE kind = ?", (Session.__actorflow_kind__,)
        ).fetchone()
    finally:
        conn.close()
    return int(sessions)


def main(argv: list[str]) -> None:
    if len(argv) != 1 or not argv[0].isdigit():
        raise SystemExit(f"usage: {Path(__file__).name} COUNT")
    logging.getLogger("actorflow").setLevel(logging.CRITICAL)
    print(json.dumps(uvloop.run(measure(int(argv[0])))))


if __name__ == "__main__":
    main(sys.argv[1:])
