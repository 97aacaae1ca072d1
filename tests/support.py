"""Message types and actors shared by the tests (tags are global, so each is defined once)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

import actorflow as af
from actorflow.journal import JournalBackend, MemoryJournal, PostgresJournal, SQLiteJournal

from .journal.postgres_server import PostgresServer


class Ping(af.Message):
    n: int


class Add(af.Message):
    n: int


class Get(af.Message):
    pass


class Fail(af.Message):
    reason: str = "boom"


class Block(af.Message):
    """Handled by waiting on the actor's `release` event."""


class Note(af.Message):
    text: str


class CountState(af.State):
    total: int = 0
    seen: list[int] = []


class Counter(af.Actor[CountState]):
    """Adds, answers pings, fails on request; records what it saw in its state."""

    def on_add(self, msg: Add) -> int:
        self.state.total += msg.n
        self.state.seen.append(msg.n)
        return self.state.total

    def on_get(self, msg: Get) -> int:
        return self.state.total

    async def on_ping(self, msg: Ping) -> int:
        return msg.n

    def on_fail(self, msg: Fail) -> None:
        raise RuntimeError(msg.reason)


class Gate:
    """Events a test shares with a `Blocker`: it sets `entered` and waits for `release`."""

    def __init__(self) -> None:
        self.entered = anyio.Event()
        self.release = anyio.Event()
        self.handled: list[int] = []


class Blocker(af.Actor[None]):
    """Blocks in its handler until the test releases its gate."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    async def on_block(self, msg: Block) -> None:
        self.gate.entered.set()
        await self.gate.release.wait()

    def on_ping(self, msg: Ping) -> None:
        self.gate.handled.append(msg.n)


@pytest.fixture(params=["in-memory", "memory-journal", "sqlite", "postgres"], name="journal")
def each_journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JournalBackend | None]:
    """A system's journal four ways: none (in memory), a `MemoryJournal`, a `SQLiteJournal`, a
    `PostgresJournal` on the session's real server."""
    if request.param == "sqlite":
        yield SQLiteJournal(tmp_path / "journal.db")
    elif request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        yield PostgresJournal(server.new_database())
    elif request.param == "memory-journal":
        yield MemoryJournal()
    else:
        yield None
