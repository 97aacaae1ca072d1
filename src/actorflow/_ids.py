"""Message ids (J4, J7): unique across processes, cheap, roughly in creation order."""

from __future__ import annotations

import hashlib
import itertools
import os
import time

__all__ = ["child_message_id", "new_message_id"]

# Ids are this process's random prefix (time first, so ids sort roughly by creation) and a
# counter: unique across processes, ~0.2 us each where os.urandom costs ~12 us a call here,
# and increasing, so the journal's id index grows at its end instead of at random places.
_prefix = f"{int(time.time()):08x}{os.urandom(5).hex()}"
_counter = itertools.count()


def new_message_id() -> str:
    """A fresh message id, unique across processes: 18 hex digits of prefix, 8 of counter."""
    return f"{_prefix}{next(_counter):08x}"


def child_message_id(cause: str, position: int) -> str:
    """The id of what the handler of message `cause` sends `position`-th (1, 2, ...) (R2).

    Derived, not drawn: a re-run of the same turn (after a crash, a failed attempt, or in a
    replay) sends the same ids, so its children and their recorded steps match the journal.
    24 hex digits of a BLAKE2b digest of the cause (fixed length however deep a conversation
    goes), then ``.`` and the position: the ``.`` keeps them apart from fresh ids, which are
    hex digits only.
    """
    digest = hashlib.blake2b(cause.encode(), digest_size=12).hexdigest()
    return f"{digest}.{position}"
