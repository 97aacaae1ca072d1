"""The CLI beside a running system: reads while it writes (WAL), and ``tail --follow``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from anyio.streams.text import TextReceiveStream

import actorflow as af
from actorflow import testing

from .support import Note, Notebook, cli

pytestmark = pytest.mark.anyio


async def test_reads_work_while_a_system_writes(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    sent = 200
    async with af.ActorSystem(journal=path) as system:
        writer = await system.spawn(Notebook, name="writer")
        await writer.tell(Note("first"))
        done = anyio.Event()

        async def send_all() -> None:
            for i in range(sent - 1):
                await writer.tell(Note(f"n{i}"))
            done.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(send_all)
            reads = 0
            while not done.is_set() or reads < 3:
                for command in (["stats", "--json"], ["messages", "--json"], ["actors"]):
                    result = await anyio.to_thread.run_sync(
                        cli, ["journal", *command, "--journal", str(path)]
                    )
                    assert result.exit_code == 0, result.output
                reads += 1
        await testing.wait_idle(system)
        result = await anyio.to_thread.run_sync(
            cli, ["journal", "stats", "--json", "--journal", str(path)]
        )
        stats = json.loads(result.stdout)
        assert stats["messages"] == {"pending": 0, "done": sent, "dead": 0, "cancelled": 0}
        assert stats["wal_bytes"] > 0  # read while the system's WAL was in use


async def test_p2_tail_follow_prints_new_commits_until_ctrl_c(new_journal: str) -> None:
    """On a SQLite file and on PostgreSQL (C1: its data version the snapshot's xmax)."""
    path = new_journal
    async with af.ActorSystem(journal=path) as system:
        ref = await system.spawn(Notebook, name="followed")
        await ref.tell(Note("before"), id="t-0")
        command = [sys.executable, "-m", "actorflow", "journal", "tail", "--follow", "--json"]
        process = await anyio.open_process(
            [*command, "--limit", "1", "--journal", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert process.stdout is not None
            lines = TextReceiveStream(process.stdout)
            seen: list[str] = []
            buffer = ""

            async def read_until(count: int) -> None:
                nonlocal buffer
                while len(seen) < count:
                    buffer += await lines.receive()
                    *complete, buffer = buffer.split("\n")
                    seen.extend(json.loads(line)["id"] for line in complete)

            with anyio.fail_after(30):
                await read_until(1)  # printed once the tail is following
                assert seen == ["t-0"]
                for i in (1, 2, 3):
                    await ref.tell(Note(f"after {i}"), id=f"t-{i}")
                await read_until(4)
            assert seen == ["t-0", "t-1", "t-2", "t-3"]
            process.send_signal(signal.SIGINT)
            with anyio.fail_after(10):
                code = await process.wait()
            assert code == 0
            assert process.stderr is not None
            errors = b"".join([chunk async for chunk in process.stderr])
            assert errors == b""
        finally:
            if process.returncode is None:
                process.kill()
            await process.aclose()
