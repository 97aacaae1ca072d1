"""How a failure reaches the person at the terminal: one line on stderr and an exit code (P3).

Journal problems are actorflow's own typed errors (`JournalError` and its subclasses,
`ActorNotFound`); `Failure` covers what is wrong with a request rather than with the journal
(an unknown message id, a requeue of a message that is not dead).
"""

from __future__ import annotations

import sqlite3
from typing import Final

import click

from .._errors import ActorflowError

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_USAGE", "Failure", "describe", "one_line"]

EXIT_FAILURE: Final = 1
"""The command could not do what was asked (a missing journal, an unknown id, ...)."""

EXIT_USAGE: Final = 2
"""The command line was wrong (an unknown option, a bad filter value); Click's convention."""

EXIT_INTERRUPTED: Final = 130
"""Ctrl-C outside ``journal tail --follow`` (128 + SIGINT, the shell's convention)."""


class Failure(click.ClickException):
    """Raised by a command when the request cannot be done; exits 1 with its message."""

    exit_code = EXIT_FAILURE


def one_line(message: str) -> str:
    """Return `message` on one line: line breaks (from journal data, say) are shown escaped.

    Every character `str.splitlines` breaks at, not only CR and LF: a form feed in a JSON value
    must not split the error in two either.
    """
    return message.translate(_LINE_BREAKS)


_LINE_BREAKS: Final = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


def describe(exc: Exception) -> tuple[str, int]:
    """Return what to tell the person about a failure, and the exit code."""
    if isinstance(exc, click.ClickException):
        return exc.format_message(), exc.exit_code
    if isinstance(exc, click.Abort):
        return "interrupted", EXIT_INTERRUPTED
    if isinstance(exc, ActorflowError | OSError | sqlite3.Error):
        return str(exc), EXIT_FAILURE
    return (
        f"internal error: {type(exc).__name__}: {exc} (a bug in actorflow: run again with"
        " --debug for the traceback, and report it)"
    ), EXIT_FAILURE
