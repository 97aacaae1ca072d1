"""Reads off the event loop: each opens the journal read-only in a worker thread (sqlite3
connections belong to the thread that made them, and a read blocks until it has its rows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

from ..journal import JournalReader
from ._settings import UiSettings

__all__ = ["read"]

T = TypeVar("T")


async def read(settings: UiSettings, query: Callable[[JournalReader], T]) -> T:
    """Open the journal, run `query` on it, close it; in a worker thread."""

    def work() -> T:
        with JournalReader.open(settings.journal) as reader:
            return query(reader)

    return await anyio.to_thread.run_sync(work)
