"""Helpers of the UI tests: the form secret of a page, a message's status read directly."""

from __future__ import annotations

import html
import re
import sqlite3
from pathlib import Path

__all__ = ["form_secret", "shown", "status_of"]


def form_secret(page: str) -> str:
    """The form secret in the first form of `page`."""
    found = re.search(r'name="form_secret" value="([^"]+)"', page)
    assert found is not None, "the page has no form"
    return found.group(1)


def status_of(journal: Path, message_id: str) -> str:
    with sqlite3.connect(journal) as conn:
        (status,) = conn.execute(
            "SELECT status FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
    conn.close()
    return str(status)


def shown(page: str) -> str:
    """The text a browser shows of `page` (tags dropped, entities decoded), spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
