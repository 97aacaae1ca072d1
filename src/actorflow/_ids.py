"""Message ids (J4, J7): unique across processes, cheap, roughly in creation order."""

from __future__ import annotations

import itertools
import os
import time

__all__ = ["new_message_id"]

# Ids are this process's random prefix (time first, so ids sort roughly by creation) and a
# counter: unique across processes, ~0.2 us each where os.urandom costs ~12 us a call here,
# and increasing, so the journal's id index grows at its end instead of at random places.
_prefix = f"{int(time.time()):08x}{os.urandom(5).hex()}"
_counter = itertools.count()


def new_message_id() -> str:
    """A fresh message id, unique across processes: 18 hex digits of prefix, 8 of counter."""
    return f"{_prefix}{next(_counter):08x}"
