"""The SQLite journal's writer process (J2, J8, J9): larger group commits are made by a child
process with its own connection; its errors come back typed; it ends with the journal, and
with its process, whatever kills it; if it dies with a commit in flight, nothing more is written.

Real child processes, real SIGKILLs and SIGSTOPs.
"""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import pytest

import actorflow as af
from actorflow.journal import Batch, MessageRecord, SQLiteJournal
from actorflow.journal._lane import Lane

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
LARGE = 100  # operations: above what commits on the loop's thread (64)


def batch(start: int, count: int = LARGE, recipient: str = "a") -> Batch:
    return Batch(
        appends=[
            MessageRecord(id=f"m{i}", recipient=recipient, type="T", body=b"\x80")
            for i in range(start, start + count)
        ]
    )


async def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll `condition` (another process's state) until it holds."""
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110  # another process's state: polled, bounded
            await anyio.sleep(0.02)


async def with_writer_process(journal: SQLiteJournal) -> int:
    """Start the journal's writer process (its first large commit does) and wait until it is
    ready; its pid."""
    await journal.write(batch(10_000, recipient="warm-up"))
    await until(lambda: journal.writer_pid is not None)
    pid = journal.writer_pid
    assert pid is not None
    return pid


async def with_a_stopped_writer_process(path: Path) -> tuple[SQLiteJournal, int]:
    """A journal whose writer process is ready, then SIGSTOPped: the commit sent next waits in
    its pipe."""
    journal = SQLiteJournal(path)
    await journal.open()
    pid = await with_writer_process(journal)
    os.kill(pid, signal.SIGSTOP)
    return journal, pid


async def pending_when_reopened(path: Path, recipient: str | None = None) -> int:
    """How many messages (of `recipient`) are pending in the journal at `path`, opened anew."""
    journal = SQLiteJournal(path)
    await journal.open()
    try:
        return len(await journal.pending(recipient))
    finally:
        await journal.close()


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_j8_j2_a_large_commit_is_made_by_the_writer_process_and_read_back_here(
    tmp_path: Path,
) -> None:
    journal = SQLiteJournal(tmp_path / "j.db")
    await journal.open()
    try:
        pid = await with_writer_process(journal)
        assert pid != os.getpid()
        command = await anyio.Path(f"/proc/{pid}/cmdline").read_bytes()
        assert b"actorflow.journal._writer_child" in command
        seqs = await journal.write(batch(1))
        assert seqs == list(range(LARGE + 1, 2 * LARGE + 1))  # after the warm-up's
        assert await journal.write(batch(1)) == [None] * LARGE  # the same ids: no-ops (J2)
        first, second = await journal.write(batch(500, count=2))  # here, or there: same seqs
        assert first is not None
        assert first > 2 * LARGE
        assert second == first + 1
        assert [m.id for m in await journal.pending("a")][:2] == ["m1", "m2"]
        assert len(await journal.pending("a")) == LARGE + 2
    finally:
        await journal.close()
    assert not alive(pid)  # closing the journal ended it


async def test_j9_a_full_journal_in_the_writer_process_is_journal_full_and_nothing_lands(
    tmp_path: Path,
) -> None:
    journal = SQLiteJournal(tmp_path / "j.db", max_bytes=256 * 1024)
    await journal.open()
    try:
        await with_writer_process(journal)
        big = Batch(
            appends=[
                MessageRecord(id=f"big{i}", recipient="a", type="T", body=b"x" * 4096)
                for i in range(LARGE)
            ]
        )
        with pytest.raises(af.JournalFull):
            await journal.write(big)
        assert await journal.message("big0") is None
        assert await journal.write(batch(1)) == list(range(LARGE + 1, 2 * LARGE + 1))
    finally:
        await journal.close()


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[SQLiteJournal]:
    opened = SQLiteJournal(tmp_path / "j.db")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def test_j2_a_writer_process_killed_while_idle_leaves_commits_to_this_process(
    journal: SQLiteJournal,
) -> None:
    pid = await with_writer_process(journal)
    os.kill(pid, signal.SIGKILL)
    await until(lambda: journal.writer_pid is None)
    assert await journal.write(batch(1)) == list(range(LARGE + 1, 2 * LARGE + 1))
    assert journal.writer_pid is None  # not started again: the thread commits


async def test_j2_a_writer_process_killed_mid_commit_stops_all_writing_with_a_typed_error(
    tmp_path: Path,
) -> None:
    journal, pid = await with_a_stopped_writer_process(tmp_path / "j.db")
    try:
        outcome: list[BaseException] = []

        async def commit() -> None:
            try:
                await journal.write(batch(1))
            except af.JournalError as exc:
                outcome.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(commit)
            await anyio.wait_all_tasks_blocked()
            os.kill(pid, signal.SIGKILL)
        (error,) = outcome
        assert isinstance(error, af.JournalUnavailable)
        assert "whether that commit landed is unknown" in str(error)
        for later in (batch(1), batch(900, count=1)):  # large or small: nothing more
            with pytest.raises(af.JournalError, match="restart this process"):
                await journal.write(later)
    finally:
        await journal.close()
    # It never read the commit: only the warm-up is there, whole.
    assert await pending_when_reopened(tmp_path / "j.db") == LARGE


async def test_j2_closing_the_journal_waits_for_the_commit_its_writer_process_is_making(
    tmp_path: Path,
) -> None:
    journal, pid = await with_a_stopped_writer_process(tmp_path / "j.db")
    seqs: list[list[int | None]] = []

    async def commit() -> None:
        seqs.append(await journal.write(batch(1)))

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(commit)
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(journal.close)  # closes its input; waits for its answers
            await anyio.wait_all_tasks_blocked()
            assert seqs == []
            os.kill(pid, signal.SIGCONT)
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGCONT)
    assert seqs == [list(range(LARGE + 1, 2 * LARGE + 1))]
    assert not alive(pid)
    assert await pending_when_reopened(tmp_path / "j.db", "a") == LARGE


WRITE_UNTIL_KILLED = """
import sys, anyio
from actorflow.journal import Batch, MessageRecord, SQLiteJournal
async def main():
    journal = SQLiteJournal(sys.argv[1])
    await journal.open()
    n = 0
    while True:
        n += 1
        await journal.write(Batch(appends=[
            MessageRecord(id=f"m{n}-{i}", recipient="a", type="T", body=b"\\x80")
            for i in range(100)]))
        if journal.writer_pid is not None and n % 10 == 0:
            print(journal.writer_pid, flush=True)
anyio.run(main)
"""


def test_j2_the_writer_process_ends_when_its_process_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", WRITE_UNTIL_KILLED, str(tmp_path / "j.db")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
    finally:
        parent.kill()
        parent.wait(timeout=30)
        if parent.stdout is not None:
            parent.stdout.close()
    # The child reads the end of its input after its last commit, and exits.
    gone = os.pidfd_open(pid) if alive(pid) else None
    if gone is not None:
        try:
            readable, _, _ = select.select([gone], [], [], 30)
            assert readable, "the writer process outlived its process by 30 s"
        finally:
            os.close(gone)


KILLED_AND_STARTED_AGAIN = """
import sys, anyio
from pathlib import Path
from actorflow.journal import Batch, MessageRecord, SQLiteJournal
async def main():
    journal = SQLiteJournal(sys.argv[1])
    acks = Path(sys.argv[2])
    await journal.open()
    done = [int(line) for line in acks.read_text().split()] if acks.exists() else []
    n = max(done, default=-1)
    with acks.open("a") as out:
        while True:
            n += 1
            await journal.write(Batch(appends=[
                MessageRecord(id=f"b{n}-{i}", recipient=f"a{i}", type="T", body=b"\\x80")
                for i in range(100)]))
            out.write(f"{n}\\n")
            out.flush()
            print(journal.writer_pid or 0, flush=True)
anyio.run(main)
"""


def kills() -> int:
    return int(os.environ.get("AF_WRITER_PROCESS_KILLS", "6"))


def test_j2_sigkills_of_a_process_committing_through_its_writer_process_lose_nothing(
    tmp_path: Path,
) -> None:
    """Each run commits batches of 100 messages (through the writer process once it is ready)
    and records each batch once its write returned; it is SIGKILLed after a random number of
    them. At the end every recorded batch is in the journal whole, the file is intact, and no
    writer process outlived its run."""
    rng = random.Random(int(os.environ.get("AF_SEED", "0")) or None)
    journal, acks = tmp_path / "j.db", tmp_path / "acks.txt"
    children: set[int] = set()
    for _ in range(kills()):
        parent = subprocess.Popen(
            [sys.executable, "-c", KILLED_AND_STARTED_AGAIN, str(journal), str(acks)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert parent.stdout is not None
            through_child = 0
            while through_child < rng.randint(1, 15):
                pid = int(parent.stdout.readline())
                if pid:
                    children.add(pid)
                    through_child += 1
        finally:
            parent.kill()
            parent.wait(timeout=30)
            if parent.stdout is not None:
                parent.stdout.close()
    for pid in children:
        gone = os.pidfd_open(pid) if alive(pid) else None
        if gone is not None:
            try:
                readable, _, _ = select.select([gone], [], [], 30)
                assert readable, f"writer process {pid} outlived its process by 30 s"
            finally:
                os.close(gone)
    recorded = {int(line) for line in acks.read_text().split()}
    with sqlite3.connect(journal) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = [row[0] for row in conn.execute("SELECT id FROM messages")]
    landed: dict[int, int] = {}
    for message_id in ids:
        number = int(message_id[1:].split("-")[0])
        landed[number] = landed.get(number, 0) + 1
    assert all(landed.get(n) == 100 for n in recorded)  # nothing acknowledged was lost
    assert set(landed.values()) == {100}  # every batch whole or not at all
    assert len(children) >= 1


CRASH_IN_CHILD = """
import sys, anyio
from actorflow.journal import Batch, MessageRecord, SQLiteJournal
async def main():
    journal = SQLiteJournal(sys.argv[1])
    await journal.open()
    def large(n):
        return Batch(appends=[MessageRecord(id=f"m{n}-{i}", recipient="a", type="T",
                                            body=b"\\x80") for i in range(100)])
    await journal.write(large(0))  # starts the writer process; made in the thread (count 1)
    while journal.writer_pid is None:
        await anyio.sleep(0.02)
    for n in (1, 2):  # the writer process's first and second commits
        await journal.write(large(n))
        print(n, flush=True)
anyio.run(main)
"""


def test_j2_a_crash_point_in_the_writer_process_kills_its_process_too(tmp_path: Path) -> None:
    env = {**os.environ, "ACTORFLOW_CRASH_AT": "commit.before_commit:2"}
    done = subprocess.run(
        [sys.executable, "-c", CRASH_IN_CHILD, str(tmp_path / "j.db")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert done.stdout.split() == ["1"]  # killed inside the second commit of the child

    async def landed() -> list[str]:
        journal = SQLiteJournal(tmp_path / "j.db")
        await journal.open()
        try:
            return sorted({m.id.split("-")[0] for m in await journal.pending()})
        finally:
            await journal.close()

    assert anyio.run(landed) == ["m0", "m1"]


async def test_the_lane_is_taken_without_yielding_when_free_and_in_order_when_not() -> None:
    lane = Lane()
    ran: list[str] = []

    async def other() -> None:
        ran.append("other")

    async with anyio.create_task_group() as tg:
        tg.start_soon(other)
        async with lane:  # free: no trip through the loop, so `other` has not run yet
            assert ran == []
            assert lane.locked()
        await anyio.wait_all_tasks_blocked()
        assert ran == ["other"]
    order: list[int] = []
    release = anyio.Event()
    scopes: list[anyio.CancelScope] = []

    async def take(n: int) -> None:
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            async with lane:
                order.append(n)
                await release.wait()

    async with anyio.create_task_group() as tg:
        for n in range(4):
            tg.start_soon(take, n)
            await anyio.wait_all_tasks_blocked()
        assert order == [0]
        scopes[1].cancel()  # it stops waiting: the lane passes over it
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert order == [0, 2, 3]
    assert not lane.locked()
