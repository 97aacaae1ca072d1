"""The options several commands share: which journal (and where it came from), and ``--json``.

The journal is a SQLite file's path or a ``postgresql://`` URL (C1), first to last: a
command's own ``--journal``, the ``journal`` group's (``actorflow journal --journal X stats``),
``$ACTORFLOW_JOURNAL``, ``./actorflow.db``. An error about the path mentions the environment
variable only when the path came from it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Final, TypeVar

import click

from ..journal import JournalReader
from ..journal._postgres import is_postgres_url

__all__ = [
    "DEFAULT_JOURNAL",
    "JOURNAL_VARIABLE",
    "Journal",
    "JournalOption",
    "group_journal_option",
    "journal_option",
    "once",
    "json_option",
    "limit_option",
    "open_journal",
    "where_from",
]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_JOURNAL: Final = "actorflow.db"

JOURNAL_VARIABLE: Final = "ACTORFLOW_JOURNAL"

Journal = Path | str
"""A command's journal: a SQLite file's `Path`, or a ``postgresql://`` URL (a str)."""

_GROUP_JOURNAL: Final = "actorflow.group_journal"
"""Where the ``journal`` group's ``--journal`` leaves its path for the command below (ctx.meta)."""


class JournalOption(click.Option):
    """``--journal``: its errors name ``$ACTORFLOW_JOURNAL`` only if the path came from it."""

    def get_error_hint(self, ctx: click.Context | None) -> str:
        hint = click.Parameter.get_error_hint(self, ctx)  # Option's adds the env var always
        source = None if ctx is None or self.name is None else ctx.get_parameter_source(self.name)
        if source is click.core.ParameterSource.ENVIRONMENT:
            hint += f" (from {JOURNAL_VARIABLE})"
        return hint


def journal_option(command: F) -> F:
    """``--journal PATH|URL``, else the group's, else ``$ACTORFLOW_JOURNAL``, else
    ``./actorflow.db``: `journal_path`, a `Journal`."""
    # A str, not a Path: Path would fold the '//' of a postgresql:// URL before the callback.
    return click.option(
        "--journal",
        "journal_path",
        cls=JournalOption,
        type=click.Path(),
        default=DEFAULT_JOURNAL,
        envvar=JOURNAL_VARIABLE,
        show_envvar=True,
        show_default=True,
        callback=_path_or_url,
        help="The journal: a SQLite file, or a postgresql:// URL.",
    )(command)


def _path_or_url(ctx: click.Context, param: click.Parameter, value: str) -> Journal:
    """The journal file's path, or a ``postgresql://`` URL as given."""
    chosen = _or_the_groups(ctx, value)
    return chosen if is_postgres_url(chosen) else Path(chosen)


def group_journal_option(group: F) -> F:
    """``--journal PATH`` on a group: the journal of the command below, unless it names one."""
    return click.option(
        "--journal",
        "group_journal",
        type=click.Path(),
        default=None,
        expose_value=False,
        is_eager=True,
        callback=_keep_for_commands,
        help="The journal (a file, or a postgresql:// URL) of the command below (its own"
        " --journal wins).",
    )(group)


def _keep_for_commands(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[_GROUP_JOURNAL] = value


def _or_the_groups(ctx: click.Context, value: str) -> str:
    source = ctx.get_parameter_source("journal_path")
    group: str | None = ctx.meta.get(_GROUP_JOURNAL)
    if group is None or source is click.core.ParameterSource.COMMANDLINE:
        return value
    ctx.set_parameter_source("journal_path", click.core.ParameterSource.COMMANDLINE)
    return group


def once(ctx: click.Context, param: click.Parameter, values: tuple[Any, ...]) -> Any:
    """The callback of a ``multiple=True`` option that may be given once: its value, or None.

    Click would let a second ``--actor`` silently replace the first; this makes it an error.
    """
    if len(values) > 1:
        shown = ", ".join(repr(value) for value in values)
        raise click.BadParameter(f"given {len(values)} times ({shown}); give it once", ctx, param)
    return values[0] if values else None


def json_option(command: F) -> F:
    """``--json`` as `as_json`."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON lines (one object per line)."
    )(command)


def where_from() -> str:
    """How the current command's journal was chosen, for the error of a missing file."""
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


def open_journal(journal_path: Journal) -> AbstractContextManager[JournalReader]:
    """Open the journal read-only; a missing file's error says where its path came from."""
    return JournalReader.open(journal_path, where_from=where_from())
