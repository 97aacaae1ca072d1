"""What one web UI serves and allows: the journal, writes, the access token (U2)."""

from __future__ import annotations

import secrets
from pathlib import Path

import msgspec

from ..journal import journal_name

__all__ = ["UiSettings"]


class UiSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How an `actorflow ui` app is set up.

    `token`, when set, is required on every request (U2). `form_secret` goes into every form
    of the pages and must come back with each write, so that another site cannot make a
    visitor's browser post to the UI.
    """

    journal: Path | str
    """A SQLite file's path, or a ``postgresql://`` URL (C1)."""
    allow_writes: bool = False
    token: str | None = None
    refresh_seconds: float = 2.0
    """How often the conversations list asks whether it changed."""
    form_secret: str = msgspec.field(default_factory=lambda: secrets.token_urlsafe(24))

    @property
    def journal_name(self) -> str:
        """The journal as the pages name it: the file's name, or the URL without its password."""
        if isinstance(self.journal, Path):
            return self.journal.name
        return journal_name(self.journal)

    @property
    def journal_location(self) -> str:
        """The journal in full: the file's path, or the URL without its password."""
        return journal_name(self.journal)
