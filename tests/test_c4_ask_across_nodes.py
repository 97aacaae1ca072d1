"""An ask from one node to a durable actor another node owns (C4, with A3's semantics).

Two real systems over one real PostgreSQL journal in this process (as `test_c2_nodes.py`):
the reply travels through the database (C5), committed with the owner's done-mark (J3),
taken by the asking node when notified or polling; the handler's failure reaches the asker
as `ActorFailed` caused by a `RemoteFailure`; no answer in time is `AskTimeout`; a reply of
another type than the handler declares is `UnexpectedReply`; what nobody waits for any more
is deleted.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import anyio
import msgspec
import psycopg
import pytest

import actorflow as af
from actorflow.journal import PostgresJournal

from .journal.postgres_server import PostgresServer

pytestmark = pytest.mark.anyio

NAMES = [f"answerer-{i}" for i in range(16)]
LEASE = 0.9  # a round every 0.3 s: quick hand-overs


class Add(af.Message, tag="c4ask.Add"):
    n: int


class Boom(af.Message, tag="c4ask.Boom"):
    text: str


class FailOnce(af.Message, tag="c4ask.FailOnce"):
    key: str


class Wrong(af.Message, tag="c4ask.Wrong"):
    pass


class Untyped(af.Message, tag="c4ask.Untyped"):
    pass


class Wait(af.Message, tag="c4ask.Wait"):
    key: str


class Count(af.State):
    value: int = 0


class Ledger(af.State):
    entries: list[int] = []


FAILED_ONCE: set[str] = set()
GATES: dict[str, anyio.Event] = {}
STARTED: dict[str, anyio.Event] = {}


class Answerer(af.Actor[Count], kind="c4ask.Answerer"):
    def on_add(self, msg: Add) -> Count:
        self.state.value += msg.n
        return self.state

    def on_boom(self, msg: Boom) -> Count:
        raise ValueError(msg.text)

    def on_fail_once(self, msg: FailOnce) -> Count:
        if msg.key not in FAILED_ONCE:
            FAILED_ONCE.add(msg.key)
            raise RuntimeError("the first attempt fails")
        self.state.value += 100
        return self.state

    def on_wrong(self, msg: Wrong) -> Count:
        return 7  # type: ignore[return-value]  # not what it declares: the asker must say so

    def on_untyped(self, msg: Untyped):  # type: ignore[no-untyped-def]  # no return type
        return {"plain": [1, 2]}

    async def on_wait(self, msg: Wait) -> Count:
        STARTED[msg.key].set()
        await GATES[msg.key].wait()
        return self.state


@contextlib.asynccontextmanager
async def node(url: str, name: str) -> AsyncIterator[tuple[af.ActorSystem, PostgresJournal]]:
    journal = PostgresJournal(url, node=name, lease=LEASE)
    async with af.ActorSystem(journal=journal) as system:
        yield system, journal


async def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll `condition` (the nodes' shards, the database's rows) until it holds."""
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110  # shards and rows: polled, bounded
            await anyio.sleep(0.02)


def rows(url: str, statement: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return list(conn.execute(statement, params).fetchall())  # type: ignore[call-overload]


def ask_rows(url: str) -> tuple[int, int]:
    ((asks,),) = rows(url, "SELECT count(*) FROM actorflow_asks")
    ((replies,),) = rows(url, "SELECT count(*) FROM actorflow_replies")
    return int(asks), int(replies)  # type: ignore[call-overload]


async def elsewhere(a: PostgresJournal, b: PostgresJournal, count: int = 1) -> list[str]:
    """Names of actors `b` owns and `a` knows it does not (b took its share)."""
    await until(lambda: sum(b.owns(n) and not a.owns(n) for n in NAMES) >= count)
    return [n for n in NAMES if b.owns(n) and not a.owns(n)][:count]


async def test_c4_an_ask_to_another_nodes_actor_returns_its_reply_or_its_failure(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    async with node(url, "a") as (a, ja), node(url, "b") as (b, jb):
        there, other = await elsewhere(ja, jb, 2)
        ref = await a.spawn(Answerer, name=there, max_attempts=2)
        assert there not in {r.name for r in a.actors()}  # it runs on b, not here
        # The handler's reply, decoded as the type its handler declares (M3).
        first = await ref.ask(Add(2), expect=Count)
        assert first == Count(2)
        assert await a.lookup(there).ask(Add(3)) == Count(5)  # a ref from lookup too
        assert (await b.lookup(there).ask(Add(0), expect=Count)).value == 5  # the owner's own
        # A failed attempt its supervisor retries is not the answer; the retry's reply is.
        assert await ref.ask(FailOnce("x"), expect=Count) == Count(105)
        # A dead letter is: ActorFailed, caused by a RemoteFailure naming type and text.
        with pytest.raises(af.ActorFailed, match=f"{there} failed handling Boom") as failed:
            await ref.ask(Boom("no such order"))
        cause = failed.value.__cause__
        assert isinstance(cause, af.RemoteFailure)
        assert (cause.actor, cause.type_name, cause.message) == (
            there,
            "ValueError",
            "no such order",
        )
        assert cause.remote_traceback is not None
        assert "ValueError" in cause.remote_traceback
        assert failed.value.actor == there
        # A reply of another type than the handler declares: a typed error, not a wrong value.
        with pytest.raises(af.UnexpectedReply, match=r"replied builtins\.int to Wrong"):
            await ref.ask(Wrong())
        # `expect` is checked as for a local ask.
        with pytest.raises(af.UnexpectedReply, match="expected Ledger"):
            await ref.ask(Add(0), expect=Ledger)
        # No return annotation: plain msgpack data.
        assert await ref.ask(Untyped()) == {"plain": [1, 2]}
        # Asks in flight together, to two actors of the other node, each gets its own reply.
        second = await a.spawn(Answerer, name=other)
        async with anyio.create_task_group() as tg:
            replies: dict[int, Count] = {}

            async def one(i: int, target: af.ActorRef[Answerer]) -> None:
                replies[i] = await target.ask(Add(1), expect=Count)

            for i in range(10):
                tg.start_soon(one, i, ref if i % 2 else second)
        assert sorted(r.value for r in replies.values())[-1] == 105 + 5
        assert sorted(r.value for i, r in replies.items() if i % 2 == 0) == [1, 2, 3, 4, 5]
        # Every answer taken was deleted with its ask.
        assert ask_rows(url) == (0, 0)


async def test_c4_an_ask_that_times_out_or_whose_system_stops_leaves_nothing_behind(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    stopped: list[BaseException] = []
    async with node(url, "b") as (_, jb), anyio.create_task_group() as tg:
        asker = node(url, "a")  # stops while its last ask waits
        async with asker as (a, ja):
            (there,) = await elsewhere(ja, jb)
            ref = await a.spawn(Answerer, name=there)
            key, last = f"timeout-{id(ref)}", f"stopping-{id(ref)}"
            for k in (key, last):
                GATES[k], STARTED[k] = anyio.Event(), anyio.Event()
            with pytest.raises(af.AskTimeout, match=f"{there} did not reply to Wait") as timed_out:
                await ref.ask(Wait(key), timeout=0.3)
            assert isinstance(timed_out.value, TimeoutError)  # A3
            await STARTED[key].wait()  # b handles it all the same
            # The asker deleted its ask at once: the late reply is not written at all.
            await until(lambda: ask_rows(url) == (0, 0))
            GATES[key].set()
            await until(lambda: done(url, key))
            assert ask_rows(url) == (0, 0)
            # An asker that died leaves its ask (and a reply that came): they expire with
            # their timeout and the next ask of any node deletes them.
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    "INSERT INTO actorflow_asks VALUES ('ask-dead', 'gone', clock_timestamp(),"
                    " clock_timestamp() - interval '1 s')"
                )
                conn.execute(
                    "INSERT INTO actorflow_replies VALUES ('ask-dead', 'builtins.int', '\\x07',"
                    " NULL, clock_timestamp() - interval '1 s')"
                )
            assert ask_rows(url) == (1, 1)
            assert await ref.ask(Add(1), expect=Count) == Count(1)
            assert ask_rows(url) == (0, 0)

            # The asking system stops while an ask waits: its asker hears ActorStopped (S9)
            # and the ask is deleted.
            async def waits() -> None:
                try:
                    await ref.ask(Wait(last), timeout=30)
                except af.ActorStopped as exc:
                    stopped.append(exc)

            tg.start_soon(waits)
            await STARTED[last].wait()
        assert len(stopped) == 1
        assert ask_rows(url) == (0, 0)
        GATES[last].set()  # b's turn commits, with no reply to write
        await until(lambda: done(url, last))
        assert ask_rows(url) == (0, 0)


def done(url: str, key: str) -> bool:
    found = rows(
        url, "SELECT status FROM messages WHERE type = 'c4ask.Wait' AND body = %s", _body(key)
    )
    return found == [("done",)]


def _body(key: str) -> bytes:
    return msgspec.msgpack.encode(Wait(key))


async def test_c4_the_reply_arrives_when_the_actor_moves_while_the_ask_waits(
    postgres: PostgresServer,
) -> None:
    """C3 under an ask: the owner leaves before the turn commits (its handler cancelled after
    the shutdown timeout, the message left pending); the new owner, here the asking node
    itself, handles the message again and its commit carries the reply."""
    url = postgres.new_database()
    key = "failover"
    GATES[key], STARTED[key] = anyio.Event(), anyio.Event()
    got: list[Count] = []
    async with (
        node(url, "a") as (a, ja),
        anyio.create_task_group() as tg,
    ):
        b = node(url, "b")  # left before the ask is answered
        async with b as (_, jb):
            (there,) = await elsewhere(ja, jb)
            ref = await a.spawn(Answerer, name=there, shutdown_timeout=0.2)
            await ref.tell(Add(4))

            async def asking() -> None:
                got.append(await ref.ask(Wait(key), timeout=30, expect=Count))

            tg.start_soon(asking)
            await STARTED[key].wait()  # b runs the handler, which never finishes there
            GATES[key] = anyio.Event()  # the next run's gate (b's run waits on the old one)
            GATES[key].set()
        # b has left; the ask still waits, and is answered from a's own commit.
    assert got == [Count(4)]
    assert ja.owns(there)
    assert ask_rows(url) == (0, 0)
