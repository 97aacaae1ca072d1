"""The journal commands beside a system running on a PostgreSQL journal (C1, J10, J11, P2):
a requeue and a cancel reach it at once (their NOTIFY after the commit), compaction and pins
go on while it writes, and ``tail --follow`` prints its commits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import psycopg
import pytest
from anyio.streams.text import TextReceiveStream

import actorflow as af
from actorflow import testing

from ..journal.postgres_server import PostgresServer
from .support import FAILING, FIXED, Fail, Note, Notebook, cli

ROOT = Path(__file__).resolve().parents[2]


def json_lines(args: list[str], url: str) -> list[Any]:
    result = cli(["journal", *args, "--json", "--journal", url])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


async def listening(url: str) -> None:
    """Return once a system's listener waits for notifications on the database of `url`."""

    def look() -> bool:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND query = 'LISTEN actorflow_notices'"
            ).fetchone()
        return row is not None and row[0] > 0

    with anyio.fail_after(10):
        # Another process's session: no event to wait on, so polled, bounded.
        while not await anyio.to_thread.run_sync(look):  # noqa: ASYNC110
            await anyio.sleep(0.02)


@pytest.mark.anyio
async def test_c1_j11_a_requeue_is_picked_up_by_a_system_running_on_postgres(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    FAILING["on"] = True
    fixed = FIXED["flaky"] = anyio.Event()
    try:
        async with af.ActorSystem(journal=url) as system:
            dora = await system.spawn(Notebook, name="dora", max_attempts=2)
            await dora.tell(Fail("flaky"), id="f-1")
            await testing.wait_idle(system)
            (dead,) = await anyio.to_thread.run_sync(json_lines, ["dead"], url)
            assert (dead["id"], dead["attempts"]) == ("f-1", 2)
            await listening(url)
            FAILING["on"] = False  # the cause is fixed; the requeue's NOTIFY wakes the system
            result = await anyio.to_thread.run_sync(
                cli, ["journal", "requeue", "f-1", "--journal", url]
            )
            assert result.exit_code == 0, result.output
            assert result.stdout == (
                "requeued f-1 (cli.Fail to dora, dead after 2 attempts): pending again; the"
                " system running on this journal was woken to deliver it\n"
            )
            with anyio.fail_after(10):
                await fixed.wait()
            await testing.wait_idle(system)
        (done,) = await anyio.to_thread.run_sync(json_lines, ["show", "f-1"], url)
        assert (done["status"], done["attempts"], done["error"]) == ("done", 1, None)
        (state,) = await anyio.to_thread.run_sync(json_lines, ["state", "dora"], url)
        assert state["state"] == {"notes": ["fixed: flaky"]}
    finally:
        FAILING["on"] = True
        FIXED.clear()


def _actorflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actorflow", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _next_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise AssertionError(f"the system ended: {proc.communicate()}")
    return line.rstrip("\n")


@pytest.mark.timeout(90)
def test_c1_a_system_on_postgres_never_handles_what_was_cancelled(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    proc = subprocess.Popen(
        [sys.executable, "-m", "actorflow", "run", "tests.apps.desk:main", "--journal", url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert _next_line(proc) == "ready"
        anyio.run(listening, url)

        def send(*args: str) -> None:
            sent = _actorflow("send", *args, "--journal", url)
            assert sent.returncode == 0, sent.stderr

        send("desk", "desk.Work", '{"n": 0}', "--id", "w-0")
        assert _next_line(proc) == "started 0"  # and it waits for the switch
        for n in (1, 2):
            send("desk", "desk.Work", f'{{"n": {n}}}', "--id", f"w-{n}", "--conversation", "batch")
        cancelled = _actorflow("journal", "cancel", "batch", "--journal", url, "--by", "ops")
        assert cancelled.returncode == 0, cancelled.stderr
        assert "cancelled 2 pending messages of conversation batch:" in cancelled.stdout
        assert "the system running on this journal was woken" in cancelled.stdout
        # The release comes through the journal after the cancel, whose notices the system
        # takes in first: no race with the wake-up.
        send("switch", "desk.Release", "{}")
        assert _next_line(proc) == "done 0"
        send("desk", "desk.Work", '{"n": 3}', "--id", "w-3")
        assert _next_line(proc) == "started 3"  # 1 and 2 were never started
        assert _next_line(proc) == "done 3"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "started" not in out
    assert [
        (m["id"], m["status"], m["cancelled_by"])
        for m in json_lines(["conversation", "batch"], url)
    ] == [("w-1", "cancelled", "ops via cli"), ("w-2", "cancelled", "ops via cli")]


@pytest.mark.anyio
async def test_c1_j10_compact_and_pin_while_a_system_runs_on_postgres(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()

    def journal(*args: str) -> list[Any]:
        return json_lines(list(args), url)

    async with af.ActorSystem(journal=url) as system:
        ref = await system.spawn(Notebook, name="kept")
        for i in range(20):
            await ref.tell(Note(f"n{i}"), id=f"n-{i}")
        await testing.wait_idle(system)
        pinned = await anyio.to_thread.run_sync(cli, ["journal", "pin", "n-3", "--journal", url])
        assert pinned.stdout == "pinned conversation n-3: compaction keeps it whole\n"
        (old,) = await anyio.to_thread.run_sync(journal, "compact", "--before", "2025-01-01")
        assert (old["messages"], old["steps"]) == (0, 0)
        (would,) = await anyio.to_thread.run_sync(
            journal, "compact", "--before", "2999-01-01", "--dry-run"
        )
        (done,) = await anyio.to_thread.run_sync(journal, "compact", "--before", "2999-01-01")
        assert would["messages"] == done["messages"] == 19  # n-3 is pinned
        for i in range(20, 25):  # the system goes on writing after the compaction
            await ref.tell(Note(f"n{i}"), id=f"n-{i}")
        await testing.wait_idle(system)
        left = await anyio.to_thread.run_sync(journal, "messages")
        assert [m["id"] for m in left] == ["n-24", "n-23", "n-22", "n-21", "n-20", "n-3"]
        unpinned = await anyio.to_thread.run_sync(
            cli, ["journal", "unpin", "n-3", "--journal", url]
        )
        assert unpinned.stdout == "unpinned conversation n-3\n"
        (last,) = await anyio.to_thread.run_sync(journal, "compact", "--before", "2999-01-01")
        assert last["messages"] == 6
    (state,) = json_lines(["state", "kept"], url)
    assert state["state"]["notes"] == [f"n{i}" for i in range(25)]


@pytest.mark.anyio
async def test_c1_p2_tail_follow_on_postgres_prints_new_commits_until_ctrl_c(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    async with af.ActorSystem(journal=url) as system:
        ref = await system.spawn(Notebook, name="followed")
        await ref.tell(Note("before"), id="t-0")
        command = [sys.executable, "-m", "actorflow", "journal", "tail", "--follow", "--json"]
        process = await anyio.open_process(
            [*command, "--limit", "1", "--journal", url],
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
