"""A journal's summary: its files, schema, messages by status, actors, the oldest pending."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..journal import JournalReader
from ._filters import only
from ._format import utc
from ._html import tag
from ._layout import page
from ._parts import definition_list, message_link
from ._reading import read
from ._settings import UiSettings

__all__ = ["stats_page"]


async def stats_page(request: Request) -> HTMLResponse:
    settings: UiSettings = request.app.state.settings
    only(request.query_params, ())
    s = await read(settings, JournalReader.stats)
    counts = s.messages
    oldest = s.oldest_pending
    summary = definition_list(
        [
            ("file" if isinstance(settings.journal, Path) else "database", s.file),
            (
                "size",
                f"{s.size_bytes:,} bytes (+ {s.wal_bytes:,} in the WAL file)"
                if isinstance(settings.journal, Path)
                else f"{s.size_bytes:,} bytes (its tables and indexes)",
            ),
            ("schema version", str(s.schema_version)),
            ("messages", f"{sum(counts.values()):,}"),
            *((f"  {status}", f"{n:,}") for status, n in counts.items()),
            ("actors", f"{s.actors:,}"),
            ("dead letters", f"{s.dead_letters:,}"),
            (
                "oldest pending",
                "-"
                if oldest is None
                else tag("span", message_link(oldest.id), f" {utc(oldest.created_at)}"),
            ),
        ]
    )
    return HTMLResponse(page(settings, "Stats", summary, current="stats"))
