"""A small deterministic journal built with the real runtime, and a way to run the CLI on it.

Message tags and actor kinds are global per process, so the types are defined here once.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import anyio
from click.testing import CliRunner, Result

import actorflow as af
from actorflow import testing
from actorflow.cli._app import app

EPOCH = 1735689600.0  # 2025-01-01 00:00:00 UTC: every time in the journal is fixed from here

FAILING: dict[str, bool] = {"on": True}
"""`Fail` fails while this is on: a test turns it off to see a requeued message succeed."""

FIXED: dict[str, anyio.Event] = {}
"""Set when `Fail(reason)` with this reason is handled without failing."""


async def restart_until_fixed(journal: Path, reason: str) -> None:
    """Start a system on `journal` with `Fail` fixed, and wait until `Fail(reason)` is handled.

    The actors come back from the journal (J5); `Fail` fails again afterwards.
    """
    FAILING["on"] = False
    fixed = FIXED[reason] = anyio.Event()
    try:
        async with af.ActorSystem(journal=journal):
            with anyio.fail_after(10):
                await fixed.wait()
    finally:
        FAILING["on"] = True
        FIXED.clear()


class Note(af.Message, tag="cli.Note"):
    text: str
    forward_to: str | None = None
    forward_id: str | None = None


class Fail(af.Message, tag="cli.Fail"):
    reason: str


class Hold(af.Message, tag="cli.Hold"):
    """Handled by waiting forever: what comes after it stays pending."""


class Notes(af.State):
    notes: list[str] = []


class Notebook(af.Actor[Notes], kind="cli.Notebook"):
    async def on_note(self, msg: Note) -> None:
        self.state.notes.append(msg.text)
        if msg.forward_to is not None:
            ref = self.ctx.system.lookup(msg.forward_to)
            await ref.tell(Note(f"from {self.ctx.name}"), id=msg.forward_id)

    def on_fail(self, msg: Fail) -> None:
        if FAILING["on"]:
            raise RuntimeError(msg.reason)
        self.state.notes.append(f"fixed: {msg.reason}")
        fixed = FIXED.get(msg.reason)
        if fixed is not None:
            fixed.set()

    async def on_hold(self, msg: Hold) -> None:
        await anyio.sleep_forever()


async def build(path: Path) -> None:
    """Write the example journal at `path`; every id is explicit, so the rows are always these.

    seq  id    recipient  sender  type       status
    1    m-01  alice      -       cli.Note   done
    2    m-02  alice      -       cli.Note   done     (sends m-03 to bob)
    3    m-03  bob        alice   cli.Note   done
    4    m-04  alice      -       cli.Fail   dead     (max_attempts=1)
    5    m-05  carol      -       cli.Hold   pending  (its handler never ends)
    6    m-06  carol      -       cli.Note   pending
    """
    async with af.ActorSystem(journal=path) as system:
        alice = await system.spawn(Notebook, name="alice", max_attempts=1)
        await system.spawn(Notebook, name="bob")
        carol = await system.spawn(Notebook, name="carol", shutdown_timeout=0.01)
        await alice.tell(Note("hello"), id="m-01")
        await alice.tell(Note("pass it on", forward_to="bob", forward_id="m-03"), id="m-02")
        await testing.wait_idle(system)
        await alice.tell(Fail("bad input"), id="m-04")
        await testing.wait_idle(system)
        await carol.tell(Hold(), id="m-05")
        await carol.tell(Note("later"), id="m-06")
    fix_times(path)


class Ask(af.Message, tag="cli.Ask"):
    question: str
    pass_to: str | None = None


class Remind(af.Message, tag="cli.Remind"):
    about: str


LONG_ANSWER = "x" * 300
"""A step result longer than a table shows in full (``--full`` shows it)."""


class Researcher(af.Actor[Notes], kind="cli.Researcher"):
    async def on_ask(self, msg: Ask) -> None:
        found = await self.ctx.step("search", _search, msg.question)
        answer = await self.ctx.step("llm", _answer, found)
        self.state.notes.append(answer[:10])
        if msg.pass_to is not None:
            ref = self.ctx.system.lookup(msg.pass_to)
            await ref.tell(Ask(f"more on {msg.question}"), id="s-02")
            await self.ctx.schedule(86400.0, Remind(msg.question), to=ref)

    def on_remind(self, msg: Remind) -> None:
        self.state.notes.append(f"remember {msg.about}")


async def _search(question: str) -> dict[str, Any]:
    return {"question": question, "hits": [1, 2]}


async def _answer(found: dict[str, Any]) -> str:
    return LONG_ANSWER if found["question"].startswith("more") else f"about {found['question']}"


async def build_steps(path: Path) -> None:
    """Write a journal with recorded steps and one pending timer, at fixed times:

    seq  id    recipient  sender  type      steps          status
    1    s-01  erin       -       cli.Ask   search, llm    done  (sends s-02, sets a timer)
    2    s-02  frank      erin    cli.Ask   search, llm    done  (its llm result is long)

    The timer t-01 (to frank, a cli.Remind in conversation s-01) is due a day after it was set.
    """
    async with af.ActorSystem(journal=path) as system:
        erin = await system.spawn(Researcher, name="erin")
        await system.spawn(Researcher, name="frank")
        await erin.tell(Ask("tides", pass_to="frank"), id="s-01")
        await testing.wait_idle(system)
    fix_times(path)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE steps SET created_at = (SELECT created_at + 0.5 FROM messages"
            " WHERE id = steps.message_id) + (CASE step WHEN 'llm' THEN 0.25 ELSE 0 END)"
        )
        conn.execute(
            "UPDATE timers SET id = 't-01', created_at = ? + 60, due_at = ? + 60 + 86400",
            (EPOCH, EPOCH),
        )
    conn.close()


def fix_times(path: Path) -> None:
    """Set every time to a fixed one (message seq N at EPOCH + N minutes), for golden output."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE messages SET created_at = ? + seq * 60,"
            " done_at = CASE WHEN done_at IS NULL THEN NULL ELSE ? + seq * 60 + 1.5 END",
            (EPOCH, EPOCH),
        )
        conn.execute(
            "UPDATE actors SET created_at = ?, updated_at = coalesce(? + 60 * (SELECT max(seq)"
            " FROM messages WHERE recipient = actors.name AND status = 'done') + 1.5, ?)",
            (EPOCH, EPOCH, EPOCH),
        )
    conn.close()


LONG = "6b0ea64b1a49e67758{:08x}"
"""Ids as the runtime makes them: 26 characters (`new_message_id`)."""


def long_ids(journal: Path) -> list[str]:
    """Give every message of the example journal a runtime-length id; return them by seq."""
    with sqlite3.connect(journal) as conn:
        old = [row[0] for row in conn.execute("SELECT id FROM messages ORDER BY seq")]
        new = [LONG.format(i) for i in range(1, len(old) + 1)]
        for before, after in zip(old, new, strict=True):
            for column in ("id", "conversation", "cause"):
                conn.execute(
                    f"UPDATE messages SET {column} = ? WHERE {column} = ?",
                    (after, before),
                )
    conn.close()
    return new


def copy_journal(source: Path, target: Path) -> Path:
    """Copy a closed journal (its WAL checkpointed into the file) to `target`."""
    shutil.copyfile(source, target)
    return target


def cli(args: list[str], *, env: Mapping[str, str | None] | None = None, **kwargs: Any) -> Result:
    """Run ``actorflow ARGS`` in-process, stdout and stderr captured apart."""
    environment: dict[str, str | None] = {"ACTORFLOW_JOURNAL": None}
    environment.update(env or {})
    return CliRunner().invoke(app, args, env=environment, catch_exceptions=True, **kwargs)


def assert_one_error_line(
    result: Result, code: int, *fragments: str, streamed: bool = False
) -> str:
    """The failure was reported as one ``actorflow: error:`` line, with `code`, no traceback.

    Nothing was printed on stdout, unless the command `streamed` (printed rows as it read them).
    """
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    if not streamed:
        assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("actorflow: error: "), line
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


@contextlib.contextmanager
def write_lock_held(journal: Path) -> Iterator[None]:
    """Another process's connection holds `journal`'s write lock (BEGIN IMMEDIATE) until the
    block ends, then rolls back."""
    holder = sqlite3.connect(journal, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()
