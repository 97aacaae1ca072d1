"""Pykka and Thespian counters: the in-memory workloads on actors that are not asyncio tasks.

Each peer is imported when first measured, so that a missing one fails only its own rows.
Pykka's `ThreadingActor` runs on its own thread (the sender waits on a thread-safe future);
Thespian's ``simpleSystemBase`` runs every actor in the caller's thread, handling queued
messages while the caller waits in ``ask``.
"""

from __future__ import annotations

import statistics
from functools import cache
from typing import Any

from .results import now_ns
from .sizes import WARMUP


@cache
def _pykka_counter() -> type[Any]:
    import pykka

    class PykkaCounter(pykka.ThreadingActor):
        """Counts Pings; answers a Count (anything else) with how many it handled."""

        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def on_receive(self, message: Any) -> Any:
            if hasattr(message, "n"):
                self.count += 1
                return message.n
            return self.count

    return PykkaCounter


def pykka_tell(count: int, ping: object, ask_count: object) -> float:
    """Messages per second of `count` ``ref.tell(ping)``, then ``ref.ask(ask_count)``."""
    ref = _pykka_counter().start()
    try:
        for _ in range(WARMUP):
            ref.tell(ping)
        ref.ask(ask_count)
        start = now_ns()
        for _ in range(count):
            ref.tell(ping)
        handled = ref.ask(ask_count)
        elapsed = now_ns() - start
    finally:
        ref.stop()
    if handled != WARMUP + count:
        raise RuntimeError(f"Pykka handled {handled} Pings, expected {WARMUP + count}")
    return count * 1e9 / elapsed


def pykka_ask(count: int, ping: object) -> tuple[float, float]:
    """The median ``ref.ask(ping)`` round trip in us, and asks per second."""
    ref = _pykka_counter().start()
    try:
        for _ in range(WARMUP):
            ref.ask(ping)
        times: list[int] = []
        start = now_ns()
        for _ in range(count):
            sent = now_ns()
            ref.ask(ping)
            times.append(now_ns() - sent)
        elapsed = now_ns() - start
    finally:
        ref.stop()
    return statistics.median(times) / 1_000, count * 1e9 / elapsed


@cache
def _thespian_counter() -> type[Any]:
    from thespian.actors import Actor

    class ThespianCounter(Actor):
        """Counts Pings; answers a Ping with its `n` and anything else with the count."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.count = 0

        def receiveMessage(self, message: Any, sender: Any) -> None:
            if hasattr(message, "n"):
                self.count += 1
                if message.n < 0:  # a ping that wants an answer
                    self.send(sender, message.n)
            elif not isinstance(message, _thespian_system_message()):
                self.send(sender, self.count)

    return ThespianCounter


@cache
def _thespian_system_message() -> type[Any]:
    from thespian.actors import ActorSystemMessage

    return ActorSystemMessage


def _thespian_system() -> Any:
    from thespian.actors import ActorSystem

    return ActorSystem("simpleSystemBase", logDefs=False)


ASK_TIMEOUT = 10.0
"""Seconds a Thespian ask may take; its ask returns None instead of raising on a timeout."""


def thespian_tell(count: int, ping: object, ask_count: object) -> float:
    """Messages per second of `count` ``system.tell(actor, ping)``, then an ask for the count."""
    system = _thespian_system()
    try:
        actor = system.createActor(_thespian_counter())
        for _ in range(WARMUP):
            system.tell(actor, ping)
        system.ask(actor, ask_count, ASK_TIMEOUT)
        start = now_ns()
        for _ in range(count):
            system.tell(actor, ping)
        handled = system.ask(actor, ask_count, ASK_TIMEOUT)
        elapsed = now_ns() - start
    finally:
        system.shutdown()
    if handled != WARMUP + count:
        raise RuntimeError(f"Thespian handled {handled} Pings, expected {WARMUP + count}")
    return count * 1e9 / elapsed


def thespian_ask(count: int, ping: Any) -> tuple[float, float]:
    """The median ``system.ask(actor, ping)`` round trip in us, and asks per second."""
    question = type(ping)(-1)  # a negative n asks for an answer
    system = _thespian_system()
    try:
        actor = system.createActor(_thespian_counter())
        for _ in range(WARMUP):
            system.ask(actor, question, ASK_TIMEOUT)
        times: list[int] = []
        start = now_ns()
        for _ in range(count):
            sent = now_ns()
            answer = system.ask(actor, question, ASK_TIMEOUT)
            times.append(now_ns() - sent)
        elapsed = now_ns() - start
    finally:
        system.shutdown()
    if answer != -1:
        raise RuntimeError(f"Thespian answered {answer!r}, expected -1")
    return statistics.median(times) / 1_000, count * 1e9 / elapsed
