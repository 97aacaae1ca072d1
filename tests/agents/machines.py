"""The base of the model-based tests: a durable system on a real SQLite journal, driven from
Hypothesis's thread through a blocking portal, stopped, restarted and killed by the rules."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.lowlevel
from anyio.from_thread import start_blocking_portal
from hypothesis.stateful import RuleBasedStateMachine, invariant

import actorflow as af
from actorflow.journal import SQLiteJournal


class SystemMachine(RuleBasedStateMachine):
    """Runs `self.system` on a journal in a fresh directory; `started` runs after each start.

    Dead letters are collected across systems by their messages' ``text``: in these tests only
    kills landing on every attempt of a message may make one (S7). Errors the runtime logs
    (other than those dead letters) fail the run.
    """

    def __init__(self) -> None:
        super().__init__()
        self._portal_cm = start_blocking_portal()
        self.portal = self._portal_cm.__enter__()
        self.directory = Path(tempfile.mkdtemp(prefix="actorflow-model-"))
        self.journal = SQLiteJournal(self.directory / "journal.db")
        self.dead: set[str] = set()  # texts of dead letters, from every system so far
        self.errors = Errors()
        logging.getLogger("actorflow").addHandler(self.errors)
        self.start()

    def start(self) -> None:
        self.system = af.ActorSystem(journal=self.journal)
        self._system_cm = self.portal.wrap_async_context_manager(self.system)
        self._system_cm.__enter__()
        self.started()

    def started(self) -> None:
        """Called after each start of a system."""

    def call(self, fn: Any, *args: Any) -> Any:
        return self.portal.call(fn, *args)

    def restart_system(self) -> None:
        """Stop the system gracefully and start another on the same journal."""
        self._system_cm.__exit__(None, None, None)
        self.note_dead_letters()
        self.start()

    def kill_system(self, steps: int, work: Callable[[], Awaitable[None]] | None = None) -> None:
        """Do `work`, then `steps` loop iterations later cancel every task where it stands, as
        SIGKILL would (only what was committed survives), and start another system on the same
        journal: kills land inside the work that follows it."""
        self.call(self._kill_after, steps, work)
        with contextlib.suppress(concurrent.futures.CancelledError):
            self._system_cm.__exit__(None, None, None)
        self.note_dead_letters()
        self.start()

    async def _kill_after(self, steps: int, work: Callable[[], Awaitable[None]] | None) -> None:
        if work is not None:
            await work()
        for _ in range(steps):
            await anyio.lowlevel.checkpoint()
        self.system.kill()

    def note_dead_letters(self) -> None:
        """Kills on every attempt of a message make it a visible dead letter (S7)."""
        for letter in self.system.dead_letters:
            assert isinstance(letter.error, str)
            assert "none finished: the process stopped" in letter.error, letter
            text = getattr(letter.message, "text", None)
            assert isinstance(text, str), letter
            self.dead.add(text)

    @invariant()
    def nothing_failed_in_the_background(self) -> None:
        """Stopping, restarting or killing around unloading actors is not an error (S8)."""
        assert self.errors.records == []

    def teardown(self) -> None:
        logging.getLogger("actorflow").removeHandler(self.errors)
        try:
            with contextlib.suppress(concurrent.futures.CancelledError):
                self._system_cm.__exit__(None, None, None)
        finally:
            self._portal_cm.__exit__(None, None, None)
            shutil.rmtree(self.directory, ignore_errors=True)


class Errors(logging.Handler):
    """Keeps the runtime's error records, except dead letters (checked on their own)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "dead-lettered" not in message:
            self.records.append(message)
