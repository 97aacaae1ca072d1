"""The application of the cluster kill loop (C2, C3, J3, J5): a ring of durable actors.

Run on each node by tests/crash/cluster.py: ``actorflow run tests.crash.ring:main --journal
postgresql://... [--node NAME]``, with ``RING_LOG`` naming a directory. Main spawns the ring's
actors by name (each runs on the node that owns it, C2), prints "ready" and runs until stopped.

An outside producer sends ``Work(k)`` to ``ring/{k % ACTORS}`` in k order. An actor that handles
a Work relays it to its successor, which relays it once more (``HOPS`` messages per Work in all).
Every Relay an actor sends carries its own count of relays sent, so each actor checks what it
receives: Works in steps of ``ACTORS``, Relays from its predecessor in steps of 1. A message seen
again is counted as a duplicate, one that skips ahead as a gap, in the actor's state.

Each handled message also appends a line ``TIME ACTOR`` to this process's file in ``RING_LOG``
(outside the journal: a handler that runs again after a crash writes it again), from which the
loop reads who handled what when: the failover times.
"""

from __future__ import annotations

import os
import time
from typing import Final

import anyio

import actorflow as af

ACTORS: Final = 8
HOPS: Final = 3
"""Messages each Work makes in all: itself and two relays."""


class Work(af.Message, tag="ring.Work"):
    k: int


class Relay(af.Message, tag="ring.Relay"):
    seq: int
    ttl: int


class RingState(af.State):
    works: int = 0
    last_work: int = -1
    sent: int = 0
    received: int = 0
    gaps: int = 0
    duplicates: int = 0
    turns: int = 0
    """Every message handled, duplicates included: it only grows, commit after commit."""
    pid: int = 0
    """The process that handled the last message."""


class Handled:
    """This process's record of handled messages, one line each, outside the journal."""

    descriptor: int | None = None

    @classmethod
    def open(cls, directory: str, node: str) -> None:
        path = os.path.join(directory, f"handled-{node}-{os.getpid()}.log")
        cls.descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    @classmethod
    def write(cls, actor: str) -> None:
        if cls.descriptor is not None:
            os.write(cls.descriptor, f"{time.time():.6f} {actor}\n".encode())


class RingActor(af.Actor[RingState], kind="ring.Actor"):
    def __init__(self, index: int) -> None:
        self.index = index

    async def on_work(self, msg: Work) -> None:
        state = self.turn()
        if msg.k <= state.last_work:
            state.duplicates += 1
            return
        expected = state.last_work + ACTORS if state.last_work >= 0 else self.index
        if msg.k != expected:
            state.gaps += 1
        state.works += 1
        state.last_work = msg.k
        await self.relay(HOPS - 1)

    async def on_relay(self, msg: Relay) -> None:
        state = self.turn()
        if msg.seq <= state.received:
            state.duplicates += 1
            return
        if msg.seq != state.received + 1:
            state.gaps += 1
        state.received = msg.seq
        if msg.ttl > 1:
            await self.relay(msg.ttl - 1)

    def turn(self) -> RingState:
        Handled.write(self.ctx.name)
        self.state.turns += 1
        self.state.pid = os.getpid()
        return self.state

    async def relay(self, ttl: int) -> None:
        self.state.sent += 1
        successor = self.ctx.system.lookup(ring_name((self.index + 1) % ACTORS))
        await successor.tell(Relay(self.state.sent, ttl))


def ring_name(index: int) -> str:
    return f"ring/{index}"


async def main(system: af.ActorSystem) -> None:
    Handled.open(os.environ["RING_LOG"], os.environ.get("RING_NODE", "n1"))
    for index in range(ACTORS):
        await system.spawn(RingActor, index, name=ring_name(index))  # C2: on its owner
    print("ready", flush=True)
    await anyio.sleep_forever()
