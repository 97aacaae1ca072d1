"""How values read from a journal are shown: times, durations, decoded JSON, counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote

from ..journal import decode_msgpack

__all__ = ["MAX_SHOWN", "count", "decoded", "path_id", "utc"]

MAX_SHOWN: Final = 100_000
"""Characters of a body, state or step result shown on a page; the rest is cut, saying so."""


def utc(moment: float | None) -> str:
    """A UNIX time as ``2026-12-01 10:48:31.123 UTC`` (``-`` for None)."""
    if moment is None:
        return "-"
    try:
        text = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    except (OverflowError, OSError, ValueError):
        return f"{moment!r} (not a time)"
    return text[:-3] + " UTC"


def count(n: int, noun: str) -> str:
    """``1 message``, ``2,000 messages``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def decoded(data: bytes | None) -> tuple[str | None, str | None]:
    """Stored msgpack as indented JSON text, cut at `MAX_SHOWN`: (text, None), or (None, why
    it cannot be shown). (None, None) for no data."""
    raw, problem = decode_msgpack(data)
    if raw is None:
        return None, problem
    text = json.dumps(json.loads(bytes(raw)), indent=2, ensure_ascii=False)
    if len(text) > MAX_SHOWN:
        rest = len(text) - MAX_SHOWN
        text = f"{text[:MAX_SHOWN]}\n... ({rest:,} more characters not shown)"
    return text, None


def path_id(value: str) -> str:
    """An id as one URL path segment (every character that could end it is quoted)."""
    return quote(value, safe="")
