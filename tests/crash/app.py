"""The application of the kill loop: 8 durable actors passing messages among themselves.

Run by tests/crash/loop.py in a child process that gets SIGKILLed at random points:
``python -m tests.crash.app JOURNAL ACKS TOTAL MODE`` where MODE is "run" (produce until
killed) or "final" (produce the rest, wait until everything is handled, print the states).

The producer sends Work(k) for k = 0..TOTAL-1 to node k % 8, with the idempotent id "work-k",
and appends k to ACKS once `tell` returned (acknowledged). It starts again after the highest
acknowledged k: a message committed but not recorded as acknowledged is sent again under the
same id, a no-op. Each node forwards a Hop to the next node for every Work it handles, and
checks what it receives: Work in steps of 8, Hops from each origin in steps of 1. Anything
else is counted as a gap or a duplicate in its state.
"""

from __future__ import annotations

import os
import sys
import time

import anyio
import msgspec

import actorflow as af

NODES = 8


class Work(af.Message, tag="crash.Work"):
    k: int


class Hop(af.Message, tag="crash.Hop"):
    origin: int
    seq: int


class Report(af.Message, tag="crash.Report"):
    pass


class NodeState(af.State):
    works: int = 0
    last_work: int = -1
    forwarded: int = 0
    hops: dict[int, int] = {}
    gaps: int = 0
    duplicates: int = 0


class Node(af.Actor[NodeState], kind="crash.Node"):
    def __init__(self, index: int) -> None:
        self.index = index

    async def on_work(self, msg: Work) -> None:
        state = self.state
        expected = state.last_work + NODES if state.last_work >= 0 else self.index
        if msg.k <= state.last_work:
            state.duplicates += 1
            return
        if msg.k != expected:
            state.gaps += 1
        state.works += 1
        state.last_work = msg.k
        state.forwarded += 1
        target = self.ctx.system.lookup(f"node/{(self.index + 1) % NODES}")
        await target.tell(Hop(self.index, state.forwarded))

    def on_report(self, msg: Report) -> NodeState:
        return self.state

    def on_hop(self, msg: Hop) -> None:
        last = self.state.hops.get(msg.origin, 0)
        if msg.seq <= last:
            self.state.duplicates += 1
            return
        if msg.seq != last + 1:
            self.state.gaps += 1
        self.state.hops[msg.origin] = msg.seq


def acknowledged(path: str) -> list[int]:
    try:
        with open(path) as acks:
            return [int(line) for line in acks if line.strip().isdigit()]
    except FileNotFoundError:
        return []


async def main(system: af.ActorSystem) -> None:
    journal, acks_path, total, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    del journal
    nodes = [await system.spawn(Node, i, name=f"node/{i}") for i in range(NODES)]
    done = acknowledged(acks_path)
    # Compaction (J10) runs all along, so done messages vanish soon after they are handled: a
    # message committed but not acknowledged before the kill cannot be deduplicated by its id
    # if it was also handled, so the producer starts after the last one any node handled.
    handled = [(await ref.ask(Report(), expect=NodeState)).last_work for ref in nodes]
    start = max(max(done) + 1 if done else 0, max(handled) + 1)
    print("ready", flush=True)
    async with anyio.create_task_group() as chores:
        chores.start_soon(compact_all_along, system)
        acks = os.open(acks_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            for k in range(start, total):
                await nodes[k % NODES].tell(Work(k), id=f"work-{k}")
                os.write(acks, f"{k}\n".encode())
        finally:
            os.close(acks)
        if mode == "final":
            await system.wait_idle()
            states = {ref.name: await ref.ask(Report(), expect=NodeState) for ref in nodes}
            print("STATES " + msgspec.json.encode(states).decode(), flush=True)
            chores.cancel_scope.cancel()
            return
        await anyio.sleep_forever()


async def compact_all_along(system: af.ActorSystem) -> None:
    """Compact every done message, again and again, while the nodes work (J10)."""
    while True:
        await system.compact(time.time())
        await anyio.sleep(0.02)


if __name__ == "__main__":
    af.run(main, journal=sys.argv[1])
