"""Messages from other processes (J11): taking in what the CLI or a script appended.

An outside producer appends a message and a notice in one transaction, then wakes the system
through its journal backend (a datagram on SQLite). The system takes the notices in through its
journal writer, so that no commit lands between reading a message as pending and handing it to
its actor, and delivers each message unless its actor already holds it (restored from the
journal meanwhile). A lost wake-up costs at most one check interval: the notices wait in the
journal.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

import anyio

from ._errors import JournalError

if TYPE_CHECKING:
    from ._system import ActorSystem

__all__ = ["CHECK_SECONDS", "watch_notices"]

logger = logging.getLogger("actorflow")

CHECK_SECONDS: Final = 1.0
"""How often the system looks for notices when nobody woke it (one indexed read)."""


async def watch_notices(system: ActorSystem) -> None:
    """Take in outside messages when woken, and every `CHECK_SECONDS` anyway, until cancelled."""
    backend, writer = system._backend, system._writer
    assert backend is not None
    assert writer is not None
    woken = [anyio.Event()]

    def wake() -> None:
        woken[0].set()

    stop = backend.watch_notices(wake)
    try:
        while True:
            try:
                await writer.take_notices(system._recovery.take_in)
            except JournalError:
                if system._writer is None:
                    return  # the journal is closing
                # Logged by the writer; the notices stay in the journal for the next check.
            with anyio.move_on_after(CHECK_SECONDS):
                await woken[0].wait()
            woken[0] = anyio.Event()
    finally:
        stop()
