"""What one web UI serves and allows: the journal file, writes, the access token (U2)."""

from __future__ import annotations

import secrets
from pathlib import Path

import msgspec

__all__ = ["UiSettings"]


class UiSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How an `actorflow ui` app is set up.

    `token`, when set, is required on every request (U2). `form_secret` goes into every form
    of the pages and must come back with each write, so that another site cannot make a
    visitor's browser post to the UI.
    """

    journal: Path
    allow_writes: bool = False
    token: str | None = None
    refresh_seconds: float = 2.0
    """How often the conversations list asks whether it changed."""
    form_secret: str = msgspec.field(default_factory=lambda: secrets.token_urlsafe(24))
