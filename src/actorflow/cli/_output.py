"""How the CLI prints: Rich tables for people, JSON lines for programs.

When stdout is not a terminal, tables render plainly at a fixed width of 120 columns (or
``$ACTORFLOW_WIDTH``) with no colour, so the output of a pipe or a test does not depend on the
terminal it ran beside.

Ids are never cut or wrapped (U1): a table gives the other columns less room first (their values
wrap between words), and when even that does not fit, it prints one block of lines per row.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Literal, NamedTuple, TextIO, final

import msgspec
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..journal import MessageRecord, decode_msgpack
from ._errors import Failure

__all__ = [
    "STATUS_STYLES",
    "WIDTH_VARIABLE",
    "Column",
    "Output",
    "iso_time",
    "message_full",
    "message_summary",
    "pretty_json",
    "table_time",
]

PLAIN_WIDTH: Final = 120
"""The width tables are rendered at when stdout is not a terminal (unless `WIDTH_VARIABLE`)."""

WIDTH_VARIABLE: Final = "ACTORFLOW_WIDTH"
"""The environment variable that sets the width of plain output (``ACTORFLOW_WIDTH=80``)."""

STATUS_STYLES: Final[Mapping[str, str]] = {"pending": "yellow", "dead": "bold red"}
"""How a message status is coloured on a terminal (done is plain)."""

_MIN_WIDTH: Final = 20
_MAX_WIDTH: Final = 10_000

_GAP: Final = 3
"""Columns between two table columns: a space of padding each side of a blank rule."""

_FOLD_MIN: Final = 16
"""The narrowest a folding column (an error) gets before the table turns into blocks."""

_json = msgspec.json.Encoder()


class Column(NamedTuple):
    """One column of a table: its header, alignment, and how its values may give way.

    A column's values wrap between words when the table needs room; a `key` column's never
    do; a `fold` column's may also break inside a long word.
    """

    header: str
    justify: Literal["left", "right"] = "left"
    fold: bool = False
    """Long values may break inside a word (errors), so the column can get narrow."""
    key: bool = False
    """The values are ids people copy into other commands: never cut or wrapped (U1)."""
    styles: Mapping[str, str] | None = None
    """A style per value, shown on a terminal only (`STATUS_STYLES`)."""


@final
class Output:
    """Where a command prints: `stream` (stdout by default), through Rich for tables."""

    def __init__(self, stream: TextIO | None = None, *, width: int | None = None) -> None:
        """`width` sets the width of plain output (default: `PLAIN_WIDTH` or `WIDTH_VARIABLE`)."""
        self.stream = sys.stdout if stream is None else stream
        self.console = _console(self.stream, width)

    def json(self, value: Mapping[str, Any]) -> None:
        """Print `value` as one JSON line."""
        self.stream.write(_json.encode(value).decode())
        self.stream.write("\n")

    def table(
        self,
        columns: Sequence[Column],
        rows: Iterable[Sequence[str]],
        *,
        guides: Sequence[str] | None = None,
    ) -> None:
        """Print a table with a header row; every cell is shown as text, never as markup.

        The table is as wide as the console at most. When even the narrowest layout that keeps
        every `Column.key` value whole is wider, each row is printed as a block of lines
        instead. `guides` (one per row) says that the first column is a tree: in blocks, its
        cell is the row's first line and the row's guide starts each of the other lines.
        """
        cells = [list(row) for row in rows]
        widths = _layout(columns, cells, self.console.width)
        if widths is None:
            self._blocks(columns, cells, guides)
            return
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
        for column, width in zip(columns, widths, strict=True):
            table.add_column(
                column.header,
                justify=column.justify,
                width=width,
                overflow="fold",
                no_wrap=column.key,
            )
        for row in cells:
            table.add_row(*(_cell(column, cell) for column, cell in zip(columns, row, strict=True)))
        self._print_table(table)

    def _blocks(
        self, columns: Sequence[Column], rows: list[list[str]], guides: Sequence[str] | None
    ) -> None:
        """Each row as lines of ``header  value``; a blank line between rows (not in a tree).

        An empty cell has nothing to say and gets no line (a collapsed line of a tree)."""
        named = columns[1:] if guides is not None else columns
        width = max(cell_len(column.header) for column in named) + 2
        for i, row in enumerate(rows):
            lead = ""
            values = row
            if guides is not None:
                self.console.print(Text(row[0]), soft_wrap=True)
                lead, values = guides[i], row[1:]
            elif i:
                self.console.print("")
            for column, value in zip(named, values, strict=True):
                if not value:
                    continue
                line = Text(lead)
                line.append(column.header.ljust(width), style="bold")
                line.append(_cell(column, value))
                self.console.print(line, soft_wrap=True)

    def _print_table(self, table: Table) -> None:
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

    def pieces(self, parts: Iterable[tuple[str, str]]) -> None:
        """Print one line made of (text, style) pieces, as `line` prints one text."""
        self.console.print(Text.assemble(*parts), soft_wrap=True)

    def flush(self) -> None:
        self.stream.flush()


def _cell(column: Column, value: str) -> Text:
    style = "" if column.styles is None else column.styles.get(value, "")
    return Text(value, style=style)


def _layout(columns: Sequence[Column], rows: list[list[str]], width: int) -> list[int] | None:
    """Each column's width for a table at most `width` wide, or None if none keeps ids whole.

    A key column is as wide as its widest value (or header); another column needs at least its
    longest word (a folding one at most `_FOLD_MIN` of it). When the widest layout does not
    fit, the widest non-key columns give way first, down to those minimums.
    """
    natural = [
        max([cell_len(column.header), *(cell_len(row[i]) for row in rows)])
        for i, column in enumerate(columns)
    ]
    least = [
        natural[i]
        if column.key
        else _longest_word(column, [column.header, *(row[i] for row in rows)])
        for i, column in enumerate(columns)
    ]
    room = width - _GAP * (len(columns) - 1)
    if sum(natural) <= room:
        return natural
    if sum(least) > room:
        return None
    texts = [[column.header, *(row[i] for row in rows)] for i, column in enumerate(columns)]
    for _ in columns:  # each round settles one column, or ends
        chosen = _give_way(least, natural, room)
        # A column that wraps may need less than it got (its words break earlier): the one that
        # gives back the most keeps only what it needs, and the others share the rest.
        savings = [
            0 if w == natural[i] else w - _wrapped_width(texts[i], w) for i, w in enumerate(chosen)
        ]
        most = max(range(len(savings)), key=savings.__getitem__)
        if savings[most] <= 0:
            return chosen
        natural[most] = chosen[most] - savings[most]
    return _give_way(least, natural, room)


def _give_way(least: list[int], natural: list[int], room: int) -> list[int]:
    """Widths between `least` and `natural` summing to at most `room`: the widest shrink first."""
    if sum(natural) <= room:
        return list(natural)

    def widths(cap: int) -> list[int]:
        return [max(lo, min(hi, cap)) for lo, hi in zip(least, natural, strict=True)]

    low, high = 0, max(natural)  # the largest cap that fits: widths(0) == least fits
    while low < high:
        middle = (low + high + 1) // 2
        if sum(widths(middle)) <= room:
            low = middle
        else:
            high = middle - 1
    chosen = widths(low)
    spare = room - sum(chosen)
    for i in range(len(chosen)):  # what the cap leaves over, to the first columns that want it
        if spare and chosen[i] < natural[i]:
            chosen[i] += 1
            spare -= 1
    return chosen


def _wrapped_width(texts: list[str], width: int) -> int:
    """The widest line of `texts` wrapped between words at `width` (a longer word: `width`)."""
    widest = 0
    for text in texts:
        for paragraph in text.splitlines() or [""]:
            line = 0
            for word in paragraph.split():
                size = cell_len(word)
                if size >= width:
                    widest, line = width, 0
                    continue
                line = size if line == 0 else line + 1 + size
                if line > width:
                    line = size
                widest = max(widest, line)
    return widest


def _longest_word(column: Column, texts: list[str]) -> int:
    longest = max((cell_len(word) for text in texts for word in text.split()), default=1)
    return min(longest, _FOLD_MIN) if column.fold else max(longest, 1)


def _console(stream: TextIO, width: int | None) -> Console:
    if _isatty(stream):
        return Console(file=stream, highlight=False, markup=False, emoji=False)
    return Console(
        file=stream,
        width=_plain_width() if width is None else width,
        color_system=None,
        force_terminal=False,
        force_jupyter=False,
        force_interactive=False,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
    )


def _plain_width() -> int:
    """`PLAIN_WIDTH`, or the width `WIDTH_VARIABLE` names; raises `Failure` if it is not one."""
    text = os.environ.get(WIDTH_VARIABLE, "").strip()
    if not text:
        return PLAIN_WIDTH
    if not text.isdecimal() or not _MIN_WIDTH <= int(text) <= _MAX_WIDTH:
        raise Failure(
            f"{WIDTH_VARIABLE}={text!r} is not a width: give a whole number of columns from"
            f" {_MIN_WIDTH} to {_MAX_WIDTH}, or unset it for {PLAIN_WIDTH}"
        )
    return int(text)


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
