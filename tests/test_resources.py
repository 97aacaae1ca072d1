"""`system.resource`: an outside resource per system, opened on first use in a task of the
system's own, closed after the actors stop (the door integrations such as actorflow.mcp use)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
import pytest

import actorflow as af

pytestmark = pytest.mark.anyio

EVENTS: list[str] = []


@contextlib.asynccontextmanager
async def pool() -> AsyncIterator[dict[str, int]]:
    EVENTS.append("open")
    async with anyio.create_task_group():  # an anyio resource: entered and exited in one task
        yield {"uses": 0}
    EVENTS.append("close")


class Use(af.Message, tag="resources_test.Use"):
    pass


class User(af.Actor[None]):
    async def on_use(self, msg: Use) -> int:
        found = await self.ctx.system.resource("pool", pool)
        found["uses"] += 1
        return found["uses"]

    async def on_stop(self) -> None:
        found = await self.ctx.system.resource("pool", pool)
        EVENTS.append(f"on_stop saw {found['uses']} uses")


async def test_a_resource_is_opened_once_and_closed_after_the_actors() -> None:
    EVENTS.clear()
    async with af.ActorSystem() as system:
        first, second = await system.spawn(User), await system.spawn(User)
        assert [await first.ask(Use()), await second.ask(Use()), await first.ask(Use())] == [
            1,
            2,
            3,
        ]
    assert EVENTS == ["open", "on_stop saw 3 uses", "on_stop saw 3 uses", "close"]


async def test_a_resource_that_fails_to_open_raises_and_is_tried_again() -> None:
    tries: list[int] = []

    @contextlib.asynccontextmanager
    async def flaky() -> AsyncIterator[str]:
        tries.append(len(tries))
        if len(tries) == 1:
            raise ConnectionError("not yet")
        yield "up"

    async with af.ActorSystem() as system:
        with pytest.raises(ConnectionError, match="not yet"):
            await system.resource("flaky", flaky)
        assert await system.resource("flaky", flaky) == "up"
        assert await system.resource("flaky", flaky) == "up"
    assert tries == [0, 1]


async def test_a_resource_needs_a_running_system() -> None:
    system = af.ActorSystem()
    with pytest.raises(af.ActorflowError, match="not running"):
        await system.resource("pool", pool)
