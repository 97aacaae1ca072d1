"""``actorflow journal compact --before TIME``: delete old done messages (J10).

What goes: messages that were done before TIME and the step results they recorded. What stays:
every actor and its state, pending and dead messages, timers. Safe while a system runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..journal import compact_before, file_sizes
from ._options import Journal, journal_option, json_option, open_journal, where_from
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
@click.option("--dry-run", is_flag=True, help="Count what would be removed; change nothing.")
@journal_option
@json_option
def compact(before: float, dry_run: bool, journal_path: Journal, as_json: bool) -> None:
    """Remove done messages older than TIME, and their step results (writes to the journal).

    Kept: every actor and its state, pending and dead messages, timers, and the step results of
    messages that may still run. Safe while a system runs on the journal. The file does not
    shrink: SQLite reuses the freed pages for new rows (VACUUM would shrink it, but needs the
    journal to itself; this command does not run it). --dry-run counts what would be removed,
    read-only.
    """
    if dry_run:
        _dry_run(before, journal_path, as_json)
        return
    size_before, wal_before = _sizes(journal_path)
    removed = compact_before(journal_path, before, where_from=where_from())
    size_after, wal_after = _sizes(journal_path)
    out = Output()
    if as_json:
        out.json(
            {
                "dry_run": False,
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
    if isinstance(journal_path, str):  # PostgreSQL: its tables and indexes; autovacuum
        out.line(
            f"journal size {size_after:,} bytes (its tables and indexes), was {size_before:,}:"
            " the server's autovacuum makes the freed room reusable for new rows"
        )
        return
    out.line(
        f"journal size {size_after:,} bytes (+ {wal_after:,} in the WAL file), was"
        f" {size_before:,} (+ {wal_before:,}): freed pages are reused for new rows, the file"
        " does not shrink"
    )


def _sizes(journal: Journal) -> tuple[int, int]:
    """The journal's size and its WAL file's (a PostgreSQL journal's: its tables', 0)."""
    if isinstance(journal, Path):
        return file_sizes(journal)
    with open_journal(journal) as j:
        return j.sizes()


def _dry_run(before: float, journal_path: Journal, as_json: bool) -> None:
    with open_journal(journal_path) as j:
        would = j.compactable(before)
    out = Output()
    if as_json:
        out.json(
            {
                "dry_run": True,
                "messages": would.messages,
                "steps": would.steps,
                "before": iso_time(would.before),
            }
        )
        return
    out.line(
        f"would remove {_count(would.messages, 'done message')} and"
        f" {_count(would.steps, 'step result')} older than {table_time(would.before)} UTC;"
        " nothing was changed (run again without --dry-run to remove them)"
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
