"""How a failure reaches the person at the terminal: one line on stderr and an exit code (P3).

Journal problems are actorflow's own typed errors (`JournalError` and its subclasses,
`ActorNotFound`); `Failure` covers what is wrong with a request rather than with the journal
(an unknown message id, a requeue of a message that is not dead).
"""

from __future__ import annotations

from typing import Final

import click

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_USAGE", "Failure", "one_line"]

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
    """Return `message` on one line: newlines (from journal data, say) are shown escaped."""
    return message.replace("\r", "\\r").replace("\n", "\\n")
