"""A page's query parameters, checked: a bad value is a 400 page naming the parameter."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Final, get_args

import msgspec

from ..journal import MessageStatus
from ._problems import BadParameter

__all__ = ["ListFilters", "STATUSES", "list_filters", "only"]

STATUSES: Final[tuple[str, ...]] = get_args(MessageStatus)
_UNITS: Final = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?[smhdw])+", re.ASCII)
_PART: Final = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhdw])", re.ASCII)
_MAX_LIMIT: Final = 1000


class ListFilters(msgspec.Struct, frozen=True, kw_only=True):
    """The filters of a list page, as given (for the form) and as values (for the query)."""

    status: str | None = None
    actor: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 50
    given: dict[str, str] = {}
    """The parameters as typed, to show them again in the filter form."""


def only(params: Mapping[str, str], allowed: Iterable[str]) -> None:
    """Raise `BadParameter` for a parameter not in `allowed`."""
    names = tuple(allowed)
    for name in params:
        if name not in names:
            raise BadParameter(name, f"unknown parameter; this page takes {', '.join(names)}")


def list_filters(params: Mapping[str, str], *, now: float | None = None) -> ListFilters:
    """Read ``status``, ``actor``, ``since``, ``until`` and ``limit``; empty means not given."""
    only(params, ("status", "actor", "since", "until", "limit"))
    given = {name: value for name, value in params.items() if value.strip()}
    status = given.get("status")
    if status is not None and status not in STATUSES:
        raise BadParameter("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    moment = time.time() if now is None else now
    since = _time("since", given.get("since"), moment)
    until = _time("until", given.get("until"), moment)
    if since is not None and until is not None and since >= until:
        raise BadParameter("until", "must be later than since")
    return ListFilters(
        status=status,
        actor=given.get("actor"),
        since=since,
        until=until,
        limit=limit(given.get("limit"), 50),
        given=given,
    )


def limit(text: str | None, default: int) -> int:
    """A ``limit`` parameter: a whole number from 1 to 1000."""
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= _MAX_LIMIT:
        raise BadParameter("limit", f"{text!r} is not a whole number from 1 to {_MAX_LIMIT}")
    return value


def _time(name: str, text: str | None, now: float) -> float | None:
    """ISO 8601 (UTC when it has no zone) or a duration before now (``10m``, ``1h30m``)."""
    if text is None:
        return None
    stripped = text.strip()
    if _DURATION.fullmatch(stripped):
        return now - sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(stripped))
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise BadParameter(
            name,
            f"{text!r} is neither an ISO 8601 time (2025-01-31T12:00:00Z, UTC if no zone)"
            " nor a duration ago (30s, 10m, 2h, 3d, 1w, 1h30m)",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, ValueError, OSError):
        raise BadParameter(name, f"{text!r} is out of the range of times a journal holds") from None
