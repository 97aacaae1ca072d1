"""The UI reads a journal while a system writes to it (U1): every page answers, and what the
system committed shows up on the next request."""

from __future__ import annotations

from pathlib import Path

import anyio
import anyio.to_thread
import pytest

import actorflow as af
from actorflow import testing
from actorflow.ui import UiSettings

from ..cli.support import Note, Notebook
from .conftest import client_for

pytestmark = pytest.mark.anyio


async def test_pages_answer_while_a_system_writes(tmp_path: Path) -> None:
    journal = tmp_path / "live.db"
    async with af.ActorSystem(journal=journal) as system:
        dora = await system.spawn(Notebook, name="dora")
        await dora.tell(Note("first"), id="live-first")
        await testing.wait_idle(system)
    statuses: list[int] = []
    done = anyio.Event()

    def browse() -> None:
        with client_for(UiSettings(journal=journal)) as client:
            while not done.is_set():
                urls = ("/", "/api/conversations", "/actors", "/conversations/live-first")
                statuses.extend(client.get(url).status_code for url in urls)

    async with af.ActorSystem(journal=journal) as system:
        dora = await system.spawn(Notebook, name="dora")
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(anyio.to_thread.run_sync, browse)
            for i in range(200):
                await dora.tell(Note(f"note {i}"), id=f"live-{i}")
            await testing.wait_idle(system)
            done.set()
    assert len(statuses) >= 4
    assert set(statuses) == {200}
    with client_for(UiSettings(journal=journal)) as client:
        newest = client.get("/api/conversations?limit=1").json()["conversations"]
    assert newest[0]["id"] == "live-199"
    assert newest[0]["statuses"] == {"done": 1}
