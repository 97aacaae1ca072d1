"""Recovery (J5) with one actor whose stored state cannot be decoded (M3): that actor stays out,
named in one clear log line, with its pending messages kept; the others run."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

import actorflow as af
from actorflow import testing

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent


class Jot(af.Message, tag="test.j5undecodable.Jot"):
    text: str


class Read(af.Message, tag="test.j5undecodable.Read"):
    pass


class Stall(af.Message, tag="test.j5undecodable.Stall"):
    """Handled by waiting for ever: the first run stops with it (and what follows) pending."""


class Jots(af.State):
    texts: list[str] = []


class Jotter(af.Actor[Jots], kind="test.j5undecodable.Jotter"):
    def on_jot(self, msg: Jot) -> None:
        self.state.texts.append(msg.text)

    def on_read(self, msg: Read) -> list[str]:
        return self.state.texts

    async def on_stall(self, msg: Stall) -> None:
        await anyio.sleep_forever()


def sql(path: Path, statement: str) -> list[Any]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(statement).fetchall()
    conn.close()
    return rows


def journal_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actorflow", "journal", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


PENDING_FOR_BAD = "SELECT count(*) FROM messages WHERE recipient = 'bad' AND status = 'pending'"


@pytest.mark.timeout(60)
async def test_j5_an_actor_whose_state_cannot_be_decoded_stays_out_while_the_others_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    async with af.ActorSystem(journal=path) as system:
        good = await system.spawn(Jotter, name="good")
        bad = await system.spawn(Jotter, name="bad", shutdown_timeout=0.01)
        await good.tell(Jot("kept"))
        await bad.tell(Jot("lost"))
        await testing.wait_idle(system)
        await bad.tell(Stall())  # still pending when the system stops
        await bad.tell(Jot("waiting"))
    assert sql(path, PENDING_FOR_BAD) == [(2,)]
    sql(path, "UPDATE actors SET state = x'c1' WHERE name = 'bad'")  # 0xc1: never msgpack

    with testing.capture_logs(logging.WARNING) as records:
        async with af.ActorSystem(journal=path) as system:  # neither raises nor gives up
            good = system.lookup("good")
            assert await good.ask(Read(), timeout=5) == ["kept"]
            await good.tell(Jot("more"))
            assert await good.ask(Read(), timeout=5) == ["kept", "more"]
            with pytest.raises(af.ActorNotFound):
                system.lookup("bad")  # it stays out
            assert system.statistics().escalations == 0
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    about_bad = [m for m in errors if "bad" in m]
    assert len(about_bad) == 1, errors
    assert "state" in about_bad[0], about_bad[0]
    assert "cannot be decoded" in about_bad[0] or "cannot decode" in about_bad[0], about_bad[0]
    assert sql(path, PENDING_FOR_BAD) == [(2,)]  # its messages wait for a fix

    # The journal commands say so too: `state` names the problem, and so does `actors`.
    shown = journal_cli("state", "bad", "--json", "--journal", str(path))
    assert shown.returncode == 0, shown.stderr
    assert "cannot decode" in json.loads(shown.stdout)["state_error"]
    listed = journal_cli("actors", "--json", "--journal", str(path))
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in map(json.loads, listed.stdout.splitlines())}
    assert rows["bad"]["pending"] == 2
    assert "cannot decode" in (rows["bad"].get("state_error") or ""), rows["bad"]
    assert rows["good"].get("state_error") is None, rows["good"]
