"""A durable soak: a million tells through a SQLite journal while the process's RSS is sampled.

    python benchmarks/soak.py                    # 1,000,000 tells (make soak)
    python benchmarks/soak.py --messages 20000   # a few seconds (make soak N=20000)

A durable system on a SQLite journal (WAL + synchronous=FULL, the default) in a fresh temporary
directory; `--actors` durable counters receive `--messages` tells in all from `--senders`
tasks, each sender awaiting every tell, so no mailbox ever holds more than its senders' tells.
The work goes in chunks of `--every` messages (50,000, or a twentieth of the total when that is
smaller); after each chunk the soak waits until every message is handled, compacts the journal
(``system.compact(time.time())``: every done message and its steps go, the actors' states
stay), and prints one sample line: messages so far, RSS (``/proc/self/statm``), the journal
file and its WAL, and the chunk's rate. The file does not shrink when messages are deleted, but
SQLite reuses the freed pages, so with compaction its size levels off instead of growing with
every message.

The last line is the verdict::

    messages=1000000 rss_first_mb=... rss_last_mb=... growth_after_warmup_mb=... bound_mb=16 \
journal_last_mb=... flat=yes

The first 20% of the samples are the warm-up. ``growth_after_warmup_mb`` is the highest RSS
of any later sample minus the RSS of the last warm-up sample, and ``flat`` says whether it is
below `--bound-mb`. The soak also checks that every message was handled once: the actors'
totals must add up to the count. The exit status is 0 unless that check (or the soak) fails,
whatever the verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import uvloop

import actorflow as af

SAMPLE_EVERY = 50_000
"""Messages between two samples (and compactions) in a soak of a million."""

WARMUP_SHARE = 0.2
"""The share of the samples, from the first, that counts as the warm-up."""

BOUND_MB = 16.0
"""RSS growth after the warm-up below which the soak calls the process flat."""

MB = 1024 * 1024


class Add(af.Message, tag="soak.Add"):
    """Adds `n` to a soak counter's total."""

    n: int


class GetTotal(af.Message, tag="soak.GetTotal"):
    """Asks a soak counter for its total."""


class Total(af.State):
    """A soak counter's durable state, committed after every handled message."""

    total: int = 0


class SoakCounter(af.Actor[Total], kind="soak.counter"):
    """Adds up `Add` messages in its durable state."""

    def on_add(self, msg: Add) -> None:
        self.state.total += msg.n

    def on_get_total(self, msg: GetTotal) -> int:
        return self.state.total


@dataclass(frozen=True, slots=True)
class Sample:
    messages: int
    rss_mb: float
    journal_mb: float
    wal_mb: float
    compacted: int
    rate: float

    def line(self, number: int) -> str:
        return (
            f"sample={number} messages={self.messages} rss_mb={self.rss_mb:.1f}"
            f" journal_mb={self.journal_mb:.1f} wal_mb={self.wal_mb:.1f}"
            f" compacted={self.compacted} msg_per_s={self.rate:.0f}"
        )


def rss_mb() -> float:
    """The process's resident set now (``/proc/self/statm``); else its peak (``resource``)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / MB
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
        return peak / (MB if sys.platform == "darwin" else 1024)


def file_mb(path: Path) -> float:
    try:
        return path.stat().st_size / MB
    except FileNotFoundError:
        return 0.0


def chunks(total: int, every: int) -> list[int]:
    """`total` split into chunks of `every`, the last one holding what is left."""
    full, rest = divmod(total, every)
    return [every] * full + ([rest] if rest else [])


def shares(count: int, senders: int) -> list[int]:
    """`count` split as evenly as it goes over `senders`."""
    each, rest = divmod(count, senders)
    return [each + (i < rest) for i in range(senders)]


async def send(ref: af.ActorRef[SoakCounter], count: int) -> None:
    msg = Add(1)
    for _ in range(count):
        await ref.tell(msg)


async def soak(
    directory: Path, messages: int, actors: int, senders: int, every: int
) -> tuple[list[Sample], int]:
    """Run the soak; its samples and the sum of the actors' totals at the end."""
    path = directory / "soak.db"
    wal = Path(f"{path}-wal")
    samples: list[Sample] = []
    async with af.ActorSystem(journal=path) as system:
        refs = [await system.spawn(SoakCounter, name=f"soak/{i}") for i in range(actors)]
        targets = [refs[i % actors] for i in range(senders)]
        sent = 0
        for chunk in chunks(messages, every):
            start = time.perf_counter()
            await asyncio.gather(
                *(send(ref, n) for ref, n in zip(targets, shares(chunk, senders), strict=True))
            )
            await system.wait_idle()
            elapsed = time.perf_counter() - start
            sent += chunk
            compacted = await system.compact(time.time())
            sample = Sample(
                sent, rss_mb(), file_mb(path), file_mb(wal), compacted.messages, chunk / elapsed
            )
            samples.append(sample)
            print(sample.line(len(samples)), flush=True)
        totals = [await ref.ask(GetTotal(), timeout=60) for ref in refs]
    return samples, sum(totals)


def verdict(samples: Sequence[Sample], bound_mb: float) -> tuple[str, bool]:
    """The final line, and whether RSS stayed flat after the warm-up."""
    warmup = max(1, math.ceil(len(samples) * WARMUP_SHARE))
    settled = samples[warmup - 1].rss_mb
    later = [sample.rss_mb for sample in samples[warmup:]] or [settled]
    growth = max(later) - settled
    flat = growth < bound_mb
    line = (
        f"messages={samples[-1].messages} rss_first_mb={samples[0].rss_mb:.1f}"
        f" rss_last_mb={samples[-1].rss_mb:.1f} growth_after_warmup_mb={growth:.1f}"
        f" bound_mb={bound_mb:g} journal_last_mb={samples[-1].journal_mb:.1f}"
        f" flat={'yes' if flat else 'no'}"
    )
    return line, flat


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="a durable soak: 1M tells, RSS sampled")
    parser.add_argument("--messages", type=int, default=1_000_000, help="tells in all")
    parser.add_argument("--actors", type=int, default=8, help="durable actors receiving them")
    parser.add_argument("--senders", type=int, default=64, help="tasks sending, each awaiting")
    parser.add_argument(
        "--every",
        type=int,
        help=f"messages per sample and compaction (default: {SAMPLE_EVERY:,}, or a twentieth"
        " of --messages when that is smaller)",
    )
    parser.add_argument(
        "--bound-mb", type=float, default=BOUND_MB, help="RSS growth after warm-up called flat"
    )
    args = parser.parse_args(argv)
    if args.messages < 1 or args.actors < 1 or args.senders < 1:
        parser.error("--messages, --actors and --senders must be positive")
    every = args.every or max(1, min(SAMPLE_EVERY, args.messages // 20))
    with tempfile.TemporaryDirectory(prefix="actorflow-soak-") as scratch:
        print(
            f"soak: {args.messages:,} tells to {args.actors} durable actors from {args.senders}"
            f" senders (each awaiting its tell), journal in {scratch} (WAL + synchronous=FULL),"
            f" a sample and a compaction every {every:,} messages; warm-up: the first"
            f" {WARMUP_SHARE:.0%} of the samples; flat: RSS grows less than {args.bound_mb:g} MB"
            " after it",
            flush=True,
        )
        started = time.perf_counter()
        with af.tuned_collector():  # as `actorflow run` runs a system
            samples, total = uvloop.run(
                soak(Path(scratch), args.messages, args.actors, args.senders, every)
            )
        elapsed = time.perf_counter() - started
    if total != args.messages:
        print(f"the actors' totals add up to {total}, expected {args.messages}", file=sys.stderr)
        return 1
    print(f"handled every message once in {elapsed:.1f} s ({args.messages / elapsed:,.0f} msg/s)")
    line, _ = verdict(samples, args.bound_mb)
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
