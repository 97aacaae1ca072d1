"""The durable workflow on DBOS: a `@DBOS.workflow` calling `STEPS` `@DBOS.step`s, on SQLite
or on PostgreSQL (DBOS's home backend: its system database at a ``postgresql://`` URL).

DBOS records each step's output in its system database before the workflow goes on, and on
launch recovers the workflows its executor left pending. DBOS opens SQLite in its default
(rollback-journal) mode; like a user tuning it for writes, we switch the file to WAL first
(the mode is stored in the file). ``synchronous`` stays at SQLite's default, FULL. Concurrent
workflows are Python threads, each calling the workflow function (DBOS runs a workflow called
directly in the caller's thread).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path

from dbos import DBOS, SetWorkflowID

from .durable_workloads import run_in_threads
from .sizes import STEPS
from .steps import step_body


@DBOS.step()
def dbos_step(index: int) -> dict[str, object]:
    return step_body(index)


@DBOS.workflow()
def dbos_workflow(steps: int) -> int:
    results = [dbos_step(index) for index in range(steps)]
    return len(results)


class DBOSRunner:
    """Launches DBOS on the system database `where` (a SQLite file, or a PostgreSQL URL);
    destroys it on exit."""

    def __init__(self, where: Path | str) -> None:
        self._where = where

    def __enter__(self) -> DBOSRunner:
        if isinstance(self._where, Path):
            with contextlib.closing(sqlite3.connect(self._where)) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
            url = f"sqlite:///{self._where}"
        else:
            url = self._where
        logging.getLogger("dbos").setLevel(logging.WARNING)
        DBOS(
            config={
                "name": "peers-bench",
                "system_database_url": url,
                "log_level": "WARNING",
            }
        )
        DBOS.launch()
        return self

    def __exit__(self, *exc: object) -> None:
        DBOS.destroy()

    def run(self, workflow_id: str) -> int:
        """Run a new workflow to its end; return how many steps it ran."""
        with SetWorkflowID(workflow_id):
            return dbos_workflow(STEPS)

    def resume(self, workflow_id: str) -> int:
        """Wait for the workflow that ``DBOS.launch`` recovered, and return its result."""
        handle = DBOS.retrieve_workflow(workflow_id)
        return handle.get_result()

    def run_concurrently(self, prefix: str, workers: int, per_worker: int) -> list[int]:
        """`workers` threads, each calling the workflow function with its own workflow ids."""
        return run_in_threads(self.run, prefix, workers, per_worker)
