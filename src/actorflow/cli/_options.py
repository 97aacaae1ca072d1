"""The options several commands share: which journal file (and where its path came from), and
``--json``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Final, TypeVar

import click

from ..journal._postgres import is_postgres_url
from ._db import Journal
from ._errors import Failure

__all__ = [
    "DEFAULT_JOURNAL",
    "POSTGRES_NOT_YET",
    "journal_option",
    "journal_or_url_option",
    "json_option",
    "limit_option",
    "open_journal",
    "where_from",
]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_JOURNAL: Final = "actorflow.db"

POSTGRES_NOT_YET: Final = (
    "the journal commands read SQLite journal files in this version, not a PostgreSQL journal"
    " (reading one with them comes next); `actorflow run --journal postgresql://...` runs on it"
)


def _sqlite_path(ctx: click.Context, param: click.Parameter, value: str) -> Path:
    """The journal file's path; a ``postgresql://`` URL is refused with one line (exit 1)."""
    if is_postgres_url(value):
        raise Failure(POSTGRES_NOT_YET)
    return Path(value)


def _path_or_url(ctx: click.Context, param: click.Parameter, value: str) -> Path | str:
    """The journal file's path, or a ``postgresql://`` URL as given."""
    return value if is_postgres_url(value) else Path(value)


def journal_option(command: F) -> F:
    """``--journal PATH``, else ``$ACTORFLOW_JOURNAL``, else ``./actorflow.db``: `journal_path`."""
    return _journal_option(command, _sqlite_path, "The journal file.")


def journal_or_url_option(command: F) -> F:
    """`journal_option` that also takes a ``postgresql://`` URL (a str; a path is a `Path`)."""
    return _journal_option(
        command, _path_or_url, "The journal: a SQLite file, or a postgresql:// URL."
    )


def _journal_option(command: F, callback: Callable[..., Any], help_text: str) -> F:
    return click.option(
        "--journal",
        "journal_path",
        type=click.Path(),
        callback=callback,
        default=DEFAULT_JOURNAL,
        envvar="ACTORFLOW_JOURNAL",
        show_envvar=True,
        show_default=True,
        help=help_text,
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


def open_journal(journal_path: Path) -> AbstractContextManager[Journal]:
    """Open the journal read-only; a missing file's error says where its path came from."""
    return Journal.open(journal_path, where_from=where_from())
