"""psycopg's errors as actorflow's typed journal errors, at the PostgreSQL boundary (J9).

What the server or the connection said decides the type: an unreachable or vanished server is
`JournalUnavailable` (retried by `PostgresJournal` until its reconnect timeout), a
serialization failure or deadlock `JournalLocked` (retried), no room on the server's disk
`JournalFull`, damaged data `JournalCorrupt`; the rest (a refused password, a missing
database, a broken constraint) is a plain `JournalError` saying what PostgreSQL said.
"""

from __future__ import annotations

from typing import Final

import psycopg

from .._errors import JournalCorrupt, JournalError, JournalFull, JournalLocked, JournalUnavailable

__all__ = ["RETRYABLE", "translate"]

_LOCKED: Final = frozenset({"40001", "40P01", "55P03"})  # serialization, deadlock, lock timeout
_FULL: Final = frozenset({"53100"})  # disk_full
_UNAVAILABLE_STATES: Final = frozenset(
    {"53300", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"}
)  # too many connections, admin/crash shutdown, cannot connect now, connection exceptions
_CORRUPT: Final = frozenset({"XX001", "XX002"})  # data_corrupted, index_corrupted
_AUTH: Final = ("28P01", "28000")  # invalid password, invalid authorization (no such role)

RETRYABLE: Final = (JournalUnavailable, JournalLocked)
"""What a retry can cure: the server coming back, or the other transaction finishing."""


def translate(exc: psycopg.Error, context: str) -> JournalError:
    """Map a psycopg error to the typed journal error that says what to do (J9)."""
    state = exc.sqlstate
    text = _first_line(exc)
    reason = f"{context}: {text}"
    if state in _LOCKED:
        return JournalLocked(f"{reason} (another transaction held what this one needed)")
    if state in _FULL:
        return JournalFull(f"{reason} (free disk space on the PostgreSQL server)")
    if state in _CORRUPT:
        return JournalCorrupt(f"{reason} (the server reports damaged data; restore a backup)")
    if state in _AUTH or "password authentication failed" in text or 'role "' in text:
        return JournalError(f"{reason} (check the user and password in the journal URL)")
    if state == "3D000" or ('database "' in text and "does not exist" in text):
        return JournalError(f"{reason} (create the database first, or check the URL)")
    if state in _UNAVAILABLE_STATES or (
        state is None and isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
    ):
        return JournalUnavailable(f"{reason} (is the PostgreSQL server running and reachable?)")
    return JournalError(reason)


def _first_line(exc: psycopg.Error) -> str:
    """The error's text on one line: libpq's connection errors span several."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines) if lines else type(exc).__name__
