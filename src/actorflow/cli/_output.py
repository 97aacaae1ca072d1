"""How the CLI prints: Rich tables for people, JSON lines for programs.

When stdout is not a terminal, tables render plainly at a fixed width of 120 columns with no
colour, so the output of a pipe or a test does not depend on the terminal it ran beside.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, TextIO, final

import msgspec
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..journal import MessageRecord, decode_msgpack

__all__ = [
    "Column",
    "Output",
    "iso_time",
    "message_full",
    "message_summary",
    "pretty_json",
    "table_time",
]

PLAIN_WIDTH = 120
"""The width tables are rendered at when stdout is not a terminal."""

_json = msgspec.json.Encoder()


class Column(NamedTuple):
    """One column of a table: its header, alignment, and whether long values fold."""

    header: str
    justify: Literal["left", "right"] = "left"
    fold: bool = False
    """Fold (wrap) long values instead of cutting them, for values people copy (ids, errors)."""


@final
class Output:
    """Where a command prints: `stream` (stdout by default), through Rich for tables."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = sys.stdout if stream is None else stream
        self.console = _console(self.stream)

    def json(self, value: Mapping[str, Any]) -> None:
        """Print `value` as one JSON line."""
        self.stream.write(_json.encode(value).decode())
        self.stream.write("\n")

    def table(self, columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> None:
        """Print a table with a header row; every cell is shown as text, never as markup."""
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
        for column in columns:
            table.add_column(
                column.header,
                justify=column.justify,
                overflow="fold" if column.fold else "ellipsis",
                no_wrap=not column.fold,
            )
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        if self.console.is_terminal:
            self.console.print(table)
            return
        # Plain output: Rich pads every cell to its column's width; drop the trailing blanks.
        with self.console.capture() as captured:
            self.console.print(table)
        for line in captured.get().splitlines():
            self.stream.write(line.rstrip() + "\n")

    def fields(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Print name-value pairs, one per line, the values aligned."""
        pairs = list(pairs)
        width = max((len(name) for name, _ in pairs), default=0)
        for name, value in pairs:
            text = Text(name.ljust(width + 2), style="bold")
            text.append(value)
            self.console.print(text, soft_wrap=True)

    def line(self, text: str, *, style: str = "") -> None:
        """Print `text` as it is: never wrapped, never read as markup."""
        self.console.print(Text(text, style=style), soft_wrap=True)

    def flush(self) -> None:
        self.stream.flush()


def _console(stream: TextIO) -> Console:
    if _isatty(stream):
        return Console(file=stream, highlight=False, markup=False, emoji=False)
    return Console(
        file=stream,
        width=PLAIN_WIDTH,
        color_system=None,
        force_terminal=False,
        force_jupyter=False,
        force_interactive=False,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
    )


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or minimal stream
        return False


def table_time(timestamp: float | None) -> str:
    """A journal time for a table: UTC to the second, ``2025-01-31 12:00:00``."""
    if timestamp is None:
        return "-"
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, ValueError, OSError):
        return repr(timestamp)  # a time no calendar holds: show what is stored


def iso_time(timestamp: float | None) -> str | None:
    """A journal time for JSON: ISO 8601 in UTC to the microsecond, ``...T12:00:00.250000Z``."""
    if timestamp is None:
        return None
    try:
        moment = datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, ValueError, OSError):
        return repr(timestamp)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def message_summary(m: MessageRecord) -> dict[str, Any]:
    """A message's columns (not its body) as JSON, as ``journal messages --json`` prints them."""
    return {
        "seq": m.seq,
        "id": m.id,
        "created_at": iso_time(m.created_at),
        "sender": m.sender,
        "recipient": m.recipient,
        "type": m.type,
        "status": m.status,
        "attempts": m.attempts,
        "conversation": m.conversation,
        "cause": m.cause,
        "done_at": iso_time(m.done_at),
        "cancelled_at": iso_time(m.cancelled_at),
        "cancelled_by": m.cancelled_by,
    }


def message_full(m: MessageRecord) -> dict[str, Any]:
    data = message_summary(m)
    body, problem = decode_msgpack(m.body)
    data["body"] = body
    if problem is not None:
        data["body_error"] = problem
    data["error"] = m.error
    data["traceback"] = m.traceback
    return data


def pretty_json(raw: msgspec.Raw) -> str:
    return msgspec.json.format(bytes(raw), indent=2).decode()
