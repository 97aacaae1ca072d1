"""One node of `durable_throughput_postgres_nodes`, in a process of its own (C2).

``python benchmarks/cluster_node.py URL NODE ACTORS PER_ACTOR SPAWN`` joins the journal at URL
as node NODE (``PostgresJournal(url, node=NODE)``), spawns the counters by name when SPAWN is 1
(each then runs on the node that owns its shard), prints "joined", and answers its parent, one
line each, on stdin:

- ``count``: ``owned N``, the counters running here now;
- ``warm``: one tell to each of them, handled, then ``warm``;
- ``go``: PER_ACTOR tells to each counter running here, one producer per counter, until all are
  handled and committed; then one JSON line: the wall-clock start and end and the messages.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import uvloop

import actorflow as af
from durable import DurableCounter, actor_names, produce


def local_counters(system: af.ActorSystem) -> list[af.ActorRef[DurableCounter]]:
    return [ref for ref in system.actors() if ref.name.startswith("counter-")]


async def serve(url: str, node: str, actors: int, per_actor: int, spawn: bool) -> None:
    journal = af.PostgresJournal(url, node=node, readers=2)
    async with af.ActorSystem(journal=journal) as system:
        if spawn:
            for name in actor_names(actors):
                await system.spawn(DurableCounter, name=name)
        print("joined", flush=True)
        lines = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(lines), sys.stdin)
        while command := (await lines.readline()).decode().strip():
            refs = local_counters(system)
            if command == "count":
                print(f"owned {len(refs)}", flush=True)
            elif command == "warm":
                await asyncio.gather(*(produce(ref, 1) for ref in refs))
                await system.wait_idle()
                print("warm", flush=True)
            elif command == "go":
                start = time.time()
                await asyncio.gather(*(produce(ref, per_actor) for ref in refs))
                await system.wait_idle()
                end = time.time()
                result = {"start": start, "end": end, "messages": per_actor * len(refs)}
                print(json.dumps(result), flush=True)
            else:
                raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    url, node, actors, per_actor, spawn = sys.argv[1:]
    uvloop.run(serve(url, node, int(actors), int(per_actor), spawn == "1"))
