"""Messages from other processes (J11): taking in what the CLI or a script appended, re-queued
or cancelled.

An outside producer appends a message and a notice in one transaction, then wakes the system
through its journal backend (a datagram on SQLite). The system takes the notices in through its
journal writer, so that no commit lands between reading a message as pending and handing it to
its actor, and delivers each message unless its actor already holds it (restored from the
journal meanwhile). A cancelled message is dropped by the actor holding it before its handler
starts, and a cancelled timer disarmed. A lost wake-up costs at most one check interval: the
notices wait in the journal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

import anyio

from .._errors import JournalError
from ..journal import JournalBackend, MessageRecord
from ._writer import Writer

__all__ = ["CHECK_SECONDS", "watch_notices"]

logger = logging.getLogger("actorflow")

CHECK_SECONDS: Final = 1.0
"""How often the system looks for notices when nobody woke it (one indexed read)."""


async def watch_notices(
    backend: JournalBackend,
    writer: Writer,
    take_in: Callable[[list[MessageRecord]], None],
    closing: Callable[[], bool],
) -> None:
    """Take in outside messages when woken, and every `CHECK_SECONDS` anyway, until cancelled.

    `take_in` gets them in the writer (``Recovery.take_in``); `closing` says the journal is
    closing, when a failed check ends the watch.
    """
    woken = [anyio.Event()]

    def wake() -> None:
        woken[0].set()

    stop = backend.watch_notices(wake)
    try:
        while True:
            try:
                await writer.take_notices(take_in)
            except JournalError:
                if closing():
                    return  # the journal is closing
                # Logged by the writer; the notices stay in the journal for the next check.
            with anyio.move_on_after(CHECK_SECONDS):
                await woken[0].wait()
            woken[0] = anyio.Event()
    finally:
        stop()
