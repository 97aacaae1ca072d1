"""Pykka's tell throughput, to compare with actorflow's; imported only if pykka is installed."""

from __future__ import annotations

from typing import Any

import pykka

from harness import WARMUP, expect, now_ns, per_second
from workloads import Count, Ping


class PykkaCounter(pykka.ThreadingActor):
    """The counting work of `workloads.Counter`, as a Pykka actor on its own thread."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def on_receive(self, message: Any) -> Any:
        if type(message) is Ping:
            self.count += 1
            return message.n
        return self.count  # Count


def pykka_tell(count: int) -> float:
    """Messages per second: `count` tells in a loop, then an ask to wait until all are handled.

    Blocking: call it from a worker thread, not from the event loop.
    """
    ref = PykkaCounter.start()
    try:
        msg = Ping(1)
        for _ in range(WARMUP):
            ref.tell(msg)
        ref.ask(Count())
        start = now_ns()
        for _ in range(count):
            ref.tell(msg)
        handled = ref.ask(Count())
        elapsed = now_ns() - start
    finally:
        ref.stop()
    expect("pykka Pings handled", handled, WARMUP + count)
    return per_second(count, elapsed)
