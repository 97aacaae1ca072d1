"""A group commit refused because the node lost one of its shards (C2) still lands what the node
holds: the turns, steps and tells of the other actors are no fault of theirs (J3).

Real systems and writers over a real server (`tests/journal/postgres_server.py`); the shard is
taken straight in the database, as a live node's claim after a lapsed lease does
(`tests/journal/shards.py`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable

import anyio
import pytest

import actorflow as af
from actorflow.durable import Writer
from actorflow.journal import Done, MessageRecord, PostgresJournal, StepRecord
from actorflow.journal._pg_cluster import DEFAULT_SHARDS, shard_of

from .journal.postgres_server import PostgresServer
from .journal.shards import another_node_takes

pytestmark = pytest.mark.anyio

# The node's lease is long: no round of its own runs during a test, only the look that a
# refusal makes. That look sees node 'two' live and hands over the shards beyond its half
# (the upper ones): the actor that stays is named for one of the lowest shards.
LEASE = 30.0
LOST = "lost-0"  # its shard is taken from under the node
KEPT = next(
    f"kept-{i}"
    for i in range(1000)
    if shard_of(f"kept-{i}", DEFAULT_SHARDS) < 8
    and shard_of(f"kept-{i}", DEFAULT_SHARDS) != shard_of(LOST, DEFAULT_SHARDS)
)


def msg(message_id: str, recipient: str) -> MessageRecord:
    return MessageRecord(id=message_id, recipient=recipient, type="Add", body=b"\x01")


@contextlib.asynccontextmanager
async def writer_of(url: str) -> AsyncIterator[tuple[PostgresJournal, Writer]]:
    journal = PostgresJournal(url, node="one", lease=LEASE)
    await journal.open()

    async def changed() -> None:
        pass

    try:
        await journal.join(changed)
        writer = Writer(journal)
        async with anyio.create_task_group() as tg:
            await tg.start(writer.run)
            yield journal, writer
            writer.close()
    finally:
        await journal.close()


async def test_c2_j3_a_refused_commit_lands_again_without_what_the_node_lost(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    async with writer_of(url) as (journal, writer):
        await writer.append([msg("a1", LOST), msg("b1", KEPT)])
        another_node_takes(url, LOST)
        busy, release = anyio.Event(), anyio.Event()

        async def hold() -> None:
            busy.set()
            await release.wait()

        delivered: list[str] = []
        outcomes: dict[str, str] = {}

        async def settle(name: str, future: Awaitable[object]) -> None:
            try:
                await future
            except af.OwnershipLost:
                outcomes[name] = "refused"
            else:
                outcomes[name] = "committed"

        async with anyio.create_task_group() as tg:
            tg.start_soon(writer.read, hold)  # the writer waits: what follows is one batch
            await busy.wait()
            queued = {
                # A turn of each actor (the lost one's first, as if it came first), ...
                "lost turn": writer.processed(Done("a1", LOST, b"lost", 1.0), [], [], None),
                "kept turn": writer.processed(
                    Done("b1", KEPT, b"kept", 1.0),
                    [msg("b2", KEPT)],
                    [lambda seq: delivered.append("b2")],
                    None,
                ),
                # ... a step of each (named by message id only: found by splitting), ...
                "lost step": writer.step(StepRecord("a1", "llm", b"a")),
                "kept step": writer.step(StepRecord("b1", "llm", b"b")),
                # ... and a tell to each: the lost actor's goes to its new owner (C4).
                "tell lost": writer.tell(
                    msg("a2", LOST), lambda item, seq: delivered.append(item), "a2"
                ),
                "tell kept": writer.tell(
                    msg("b3", KEPT), lambda item, seq: delivered.append(item), "b3"
                ),
            }
            for name, future in queued.items():
                tg.start_soon(settle, name, future)
            await anyio.wait_all_tasks_blocked()
            release.set()
        assert outcomes == {
            "lost turn": "refused",
            "kept turn": "committed",
            "lost step": "refused",
            "kept step": "committed",
            "tell lost": "committed",
            "tell kept": "committed",
        }
        assert not journal.owns(LOST)
        assert journal.owns(KEPT)
        # The lost turn failed at once; the rest was split until the lost step was alone.
        assert delivered == ["b2", "a2", "b3"]
        kept, lost = await journal.message("b1"), await journal.message("a1")
        assert kept is not None
        assert kept.status == "done"
        assert lost is not None
        assert lost.status == "pending"
        assert await journal.steps("b1") == {"llm": b"b"}
        assert await journal.steps("a1") == {}
        assert [m.id for m in await journal.pending()] == ["a1", "b2", "a2", "b3"]
        # Refused: the batch, the batch without the lost turn, the half holding the lost step,
        # and the lost step alone.
        assert writer.statistics().fenced_commits_refused == journal.fenced == 4


class Wait(af.Message, tag="test.c2apart.Wait"):
    """Handled by waiting at `GATE`, after saying so in `ENTERED`."""


class Count(af.Message, tag="test.c2apart.Count"):
    pass


class Turns(af.State):
    handled: int = 0


GATE: list[anyio.Event] = []
ENTERED: dict[str, anyio.Event] = {}
RUNS: dict[str, int] = {}  # handler runs, restarts' re-runs included


class Waiter(af.Actor[Turns], kind="test.c2apart.Waiter"):
    async def on_wait(self, msg: Wait) -> None:
        RUNS[self.ctx.name] = RUNS.get(self.ctx.name, 0) + 1
        ENTERED[self.ctx.name].set()
        await GATE[0].wait()
        self.state.handled += 1

    def on_count(self, msg: Count) -> int:
        return self.state.handled


async def test_c2_j3_an_actor_whose_turn_shared_a_refused_commit_is_not_restarted(
    postgres: PostgresServer,
) -> None:
    """Two actors' turns end together, so they share a group commit; one actor's shard has
    been taken. The other's turn lands (it is neither restarted nor run again); the lost one
    is stopped here, its message pending for the new owner."""
    url = postgres.new_database()
    GATE[:] = [anyio.Event()]
    ENTERED.update({LOST: anyio.Event(), KEPT: anyio.Event()})
    RUNS.clear()
    try:
        journal = PostgresJournal(url, node="one", lease=LEASE)
        async with af.ActorSystem(journal=journal) as system:
            refs = {name: await system.spawn(Waiter, name=name) for name in (LOST, KEPT)}
            for name, ref in refs.items():
                await ref.tell(Wait())
                await ENTERED[name].wait()
            another_node_takes(url, LOST)
            GATE[0].set()  # both turns end in one step of the loop: one commit for both
            assert await refs[KEPT].ask(Count(), expect=int, timeout=10) == 1
            with anyio.fail_after(10):
                while refs[LOST].status != "stopped":  # noqa: ASYNC110  # polled, bounded
                    await anyio.sleep(0.02)
            assert RUNS == {LOST: 1, KEPT: 1}
            kept = refs[KEPT].statistics()
            assert (kept.status, kept.restarts, kept.failed) == ("running", 0, 0)
            assert [(m.recipient, m.type) for m in await journal.pending()] == [
                (LOST, Wait.__struct_config__.tag)
            ]
            assert system.journal_statistics().fenced_commits_refused >= 1
    finally:
        GATE.clear()
        ENTERED.clear()
