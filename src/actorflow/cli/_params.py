"""Click parameter types: times, ids and other text SQLite can bind, and actor names (NFC).

Every argument that names an id, a type or an actor goes through one of these, so that bytes
that are not UTF-8 (``$'\xff'`` in a shell) are one line, "... is not valid UTF-8 text", and an
actor name typed in either Unicode form finds the actor (names are NFC, `normal_name`)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, final

import click

from .._names import normal_name

__all__ = ["FILTER_TEXT", "ID", "NAME", "TIME", "parse_time"]

if TYPE_CHECKING:  # generic from Click 8.2; plain at run time so that 8.1 works too
    _TimeBase = click.ParamType[float, Any]
    _TextBase = click.ParamType[str, Any]
else:
    _TimeBase = _TextBase = click.ParamType

_UNITS: Final = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?[smhdw])+", re.ASCII)
_PART: Final = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhdw])", re.ASCII)


def parse_time(text: str, *, now: float) -> float:
    """Return the UNIX time `text` names: ISO 8601, or a duration before `now` (``10m``).

    A duration is one or more number-unit pairs (``90s``, ``1h30m``; units s, m, h, d, w). An
    ISO 8601 time without a zone is UTC, as the CLI prints times. Raises `ValueError` saying
    what is accepted.
    """
    stripped = text.strip()
    if _DURATION.fullmatch(stripped):
        return now - sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(stripped))
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither an ISO 8601 time (2025-01-31T12:00:00Z, UTC if no zone)"
            " nor a duration ago (30s, 10m, 2h, 3d, 1w, 1h30m)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, ValueError, OSError):
        raise ValueError(f"{text!r} is out of the range of times a journal holds") from None


@final
class _Time(_TimeBase):
    name = "TIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_time(str(value), now=time.time())
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@final
class _FilterText(_TextBase):
    """Any text that can be bound as an SQL parameter (UTF-8 encodable)."""

    def __init__(self, name: str, *, names: bool = False) -> None:
        self.name = name
        self._names = names

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # Bytes that are not UTF-8 reach Python as lone surrogates; no journal value has them.
            self.fail(f"{text!r} is not valid UTF-8 text", param, ctx)
        return normal_name(text) if self._names else text


TIME: Final = _Time()
FILTER_TEXT: Final = _FilterText("TEXT")
"""Text compared as it is: a message type, a conversation id."""
ID: Final = _FilterText("ID")
"""A message or conversation id, compared as it is."""
NAME: Final = _FilterText("NAME", names=True)
"""An actor name, in NFC as the runtime stores names."""
