"""How soon a running system handles a message that another process appended to its journal (J11).

The benchmark process runs a system with one durable actor, `Receiver`, that notes the wall
time at which it handles each `Stamped` message. The producer is another process: run as a
script, this module is that producer::

    python benchmarks/outside.py JOURNAL

For each line ``wake`` or ``quiet`` on its stdin it reads ``time.time()`` into a new message,
appends it with its notice in one transaction (`append_outside`, as the CLI does) on its own
sqlite3 connection, sends the wake-up datagram for ``wake`` (`wake`), and answers ``sent`` on
its stdout. The delay measured is the handler's ``time.time()`` minus the message's own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import ClassVar

import actorflow as af
from actorflow.durable import CHECK_SECONDS
from actorflow.journal import MessageRecord
from actorflow.journal._statements import append_outside
from actorflow.journal._wake import wake
from durable import scratch_directory
from harness import REPORT, Row, Sizes, at_most, expect

PICKUP_WARMUP = 3
"""Messages sent (and handled, with a wake-up) before the measured ones."""

PICKUP_TIMEOUT = 10 * CHECK_SECONDS
"""Seconds one message may take to be handled before the run fails."""

RECEIVER = "pickup-receiver"


class Stamped(af.Message, tag="bench.Stamped"):
    """A message from another process: `sent_at` is its ``time.time()`` just before the append."""

    n: int
    sent_at: float


class Receiver(af.Actor[None], kind="bench.receiver"):
    """Notes when it handles each `Stamped` message, and wakes whoever waits for it."""

    handled: ClassVar[asyncio.Queue[tuple[Stamped, float]] | None] = None

    def on_stamped(self, msg: Stamped) -> None:
        handled_at = time.time()
        queue = Receiver.handled
        if queue is not None:
            queue.put_nowait((msg, handled_at))


async def next_handled(
    queue: asyncio.Queue[tuple[Stamped, float]], timeout: float, what: str
) -> tuple[Stamped, float]:
    """The next message a `Receiver` handled, and when (``time.time()``); a RuntimeError
    saying `what` was not handled if none comes within `timeout` seconds."""
    try:
        return await asyncio.wait_for(queue.get(), timeout)
    except TimeoutError:
        raise RuntimeError(f"{what} not handled within {timeout:g} s") from None


async def outside_pickup_latency(sizes: Sizes) -> list[Row]:
    with scratch_directory() as directory:
        path = directory / "outside.db"
        queue = Receiver.handled = asyncio.Queue()
        try:
            async with af.ActorSystem(journal=path) as system:
                await system.spawn(Receiver, name=RECEIVER)
                producer = await Producer.start(path)
                try:
                    woken = await pickups(producer, queue, "wake", sizes.pickups, PICKUP_WARMUP)
                    checked = await pickups(producer, queue, "quiet", sizes.fallback_pickups, 0)
                finally:
                    await producer.stop()
                await system.wait_idle()
                stats = system.statistics()
        finally:
            Receiver.handled = None
    expect(
        "outside messages handled",
        stats.handled,
        PICKUP_WARMUP + sizes.pickups + sizes.fallback_pickups,
    )
    return [
        Row(
            "outside_pickup_latency",
            statistics.median(woken),
            "ms",
            at_most(100),
            note=(
                f"median of {len(woken)} messages appended one after another by another process"
                " (append_outside + the wake-up datagram) on its own sqlite3 connection, from"
                " the time.time() in the message to the handler's; max"
                f" {max(woken):.2f} ms"
            ),
        ),
        Row(
            "outside_pickup_fallback",
            statistics.median(checked),
            "ms",
            REPORT,
            note=(
                f"the same without the wake-up datagram (the system's {CHECK_SECONDS:g} s"
                f" check finds it), {len(checked)} messages, each after a pause spread evenly"
                f" over 0-{CHECK_SECONDS:g} s (expect a median near half the interval); max"
                f" {max(checked):.0f} ms"
            ),
        ),
    ]


async def pickups(
    producer: Producer,
    queue: asyncio.Queue[tuple[Stamped, float]],
    mode: str,
    count: int,
    warmup: int,
) -> list[float]:
    """Milliseconds from append to handling of `count` messages, after `warmup` more."""
    delays: list[float] = []
    # Without a wake-up, each message waits for the next check: pause before each one for a
    # different fraction of the check interval, spread evenly over it (in a shuffled order), so
    # that the messages land at every phase of the check.
    pauses = [(k + 0.5) / count * CHECK_SECONDS for k in range(count)]
    random.Random(0).shuffle(pauses)
    for n in range(warmup + count):
        if mode == "quiet" and n >= warmup:
            await asyncio.sleep(pauses[n - warmup])
        await producer.send(mode)
        msg, handled_at = await next_handled(
            queue, PICKUP_TIMEOUT, f"outside pickup ({mode}): message {n}"
        )
        expect("outside message handled", msg.n, producer.sent)
        if n >= warmup:
            delays.append((handled_at - msg.sent_at) * 1e3)
    return delays


class Producer:
    """This module running as a script in another process, appending to the journal on request."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.sent = 0

    @classmethod
    async def start(cls, journal: Path) -> Producer:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            str(journal),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def send(self, mode: str) -> None:
        """Have the producer append the next message (and wake the system for ``wake``)."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.sent += 1
        self.process.stdin.write(f"{mode}\n".encode())
        await self.process.stdin.drain()
        answer = await asyncio.wait_for(self.process.stdout.readline(), PICKUP_TIMEOUT)
        if answer != b"sent\n":
            raise RuntimeError(
                f"outside producer answered {answer!r} (exit status {self.process.returncode})"
            )

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        returncode = await asyncio.wait_for(self.process.wait(), PICKUP_TIMEOUT)
        if returncode != 0:
            raise RuntimeError(f"outside producer exited {returncode}")


# -- the producer (in its own process) ---------------------------------------------------------


def produce(journal: Path) -> None:
    codec = af.Codec(Stamped)
    tag = str(Stamped.__struct_config__.tag)
    conn = sqlite3.connect(journal, isolation_level=None)
    try:
        for n, line in enumerate(sys.stdin, 1):
            mode = line.strip()
            if mode not in ("wake", "quiet"):
                raise SystemExit(f"unknown request {line!r}")
            message_id = os.urandom(12).hex()
            now = time.time()
            record = MessageRecord(
                id=message_id,
                recipient=RECEIVER,
                type=tag,
                body=codec.encode(Stamped(n, now)),
                conversation=message_id,
                created_at=now,
            )
            if append_outside(conn, record) is None:
                raise RuntimeError(f"message {message_id} was in the journal already")
            if mode == "wake" and not wake(journal):
                raise RuntimeError(f"no system is listening for wake-ups on {journal}")
            sys.stdout.write("sent\n")
            sys.stdout.flush()
    finally:
        conn.close()


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit(f"usage: {Path(__file__).name} JOURNAL")
    logging.getLogger("actorflow").setLevel(logging.CRITICAL)
    produce(Path(argv[0]))


if __name__ == "__main__":
    main(sys.argv[1:])
