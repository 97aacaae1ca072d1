"""How values read from a journal are shown: times, durations, decoded JSON, counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote

from ..journal import decode_msgpack

__all__ = ["MAX_SHOWN", "count", "decoded", "duration", "path_id", "utc"]

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


def duration(seconds: float) -> str:
    """A duration for people: ``250 ms``, ``12.5 s``, ``4m 05s``, ``3h 07m``, ``2d 04h``."""
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    if seconds < 10:
        text = f"{seconds * 1000:,.0f} ms"
    elif seconds < 120:
        text = f"{seconds:.1f} s"
    elif seconds < 7200:
        text = f"{int(seconds // 60)}m {int(seconds % 60):02d}s"
    elif seconds < 172800:
        text = f"{int(seconds // 3600)}h {int(seconds % 3600 // 60):02d}m"
    else:
        text = f"{int(seconds // 86400)}d {int(seconds % 86400 // 3600):02d}h"
    return sign + text


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
