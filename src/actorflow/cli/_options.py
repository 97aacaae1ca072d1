"""The options several commands share: which journal file (and where its path came from), and
``--json``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Final, TypeVar

import click

from ..journal import JournalReader

__all__ = [
    "DEFAULT_JOURNAL",
    "journal_option",
    "json_option",
    "limit_option",
    "open_journal",
    "where_from",
]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_JOURNAL: Final = "actorflow.db"


def journal_option(command: F) -> F:
    """``--journal PATH``, else ``$ACTORFLOW_JOURNAL``, else ``./actorflow.db``: `journal_path`."""
    return click.option(
        "--journal",
        "journal_path",
        type=click.Path(path_type=Path),
        default=DEFAULT_JOURNAL,
        envvar="ACTORFLOW_JOURNAL",
        show_envvar=True,
        show_default=True,
        help="The journal file.",
    )(command)


def json_option(command: F) -> F:
    """``--json`` as `as_json`."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON lines (one object per line)."
    )(command)


def where_from() -> str:
    """How the current command's journal path was chosen, for the error of a missing file."""
    source = click.get_current_context().get_parameter_source("journal_path")
    if source is click.core.ParameterSource.ENVIRONMENT:
        return " (from ACTORFLOW_JOURNAL)"
    if source is click.core.ParameterSource.DEFAULT:
        return f" (the default, in {Path.cwd()})"
    return ""


def limit_option(default: int, what: str) -> Callable[[F], F]:
    """``--limit N``: show at most `default` (or N) `what`."""
    return click.option(
        "--limit",
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        help=f"Show at most this many {what}.",
    )


def open_journal(journal_path: Path) -> AbstractContextManager[JournalReader]:
    """Open the journal read-only; a missing file's error says where its path came from."""
    return JournalReader.open(journal_path, where_from=where_from())
