"""``actorflow journal compact --before TIME``: delete old done messages (J10).

What goes: messages that were done before TIME and the step results they recorded. What stays:
every actor and its state, pending and dead messages, timers. Safe while a system runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..journal import compact_before, file_sizes
from ._options import journal_option, json_option, where_from
from ._output import Output, iso_time, table_time
from ._params import TIME

__all__ = ["compact"]


@click.command()
@click.option(
    "--before",
    type=TIME,
    required=True,
    help="Remove messages done before TIME: an ISO 8601 time, or a duration ago (7d: older"
    " than 7 days).",
)
@journal_option
@json_option
def compact(before: float, journal_path: Path, as_json: bool) -> None:
    """Remove done messages older than TIME, and their step results (writes to the journal).

    Kept: every actor and its state, pending and dead messages, timers, and the step results of
    messages that may still run. Safe while a system runs on the journal. The file does not
    shrink: SQLite reuses the freed pages for new rows (VACUUM would shrink it, but needs the
    journal to itself; this command does not run it).
    """
    size_before, wal_before = file_sizes(journal_path)
    removed = compact_before(journal_path, before, where_from=where_from())
    size_after, wal_after = file_sizes(journal_path)
    out = Output()
    if as_json:
        out.json(
            {
                "messages": removed.messages,
                "steps": removed.steps,
                "before": iso_time(removed.before),
                "size_bytes": {"before": size_before, "after": size_after},
                "wal_bytes": {"before": wal_before, "after": wal_after},
            }
        )
        return
    out.line(
        f"removed {removed.messages:,} done message{'' if removed.messages == 1 else 's'} and"
        f" {removed.steps:,} step result{'' if removed.steps == 1 else 's'} older than"
        f" {table_time(removed.before)} UTC"
    )
    out.line(
        f"journal size {size_after:,} bytes (+ {wal_after:,} in the WAL file), was"
        f" {size_before:,} (+ {wal_before:,}): freed pages are reused for new rows, the file"
        " does not shrink"
    )
