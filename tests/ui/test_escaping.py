"""Hostile journal content is shown as text: every value from the journal is escaped, on
every page it appears on (a message body, a type, an actor's name, an error, a state)."""

from __future__ import annotations

import html
import sqlite3
from pathlib import Path
from urllib.parse import quote

import msgspec
import pytest
from starlette.testclient import TestClient

from .support import shown

SCRIPT = "<script>alert('owned')</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def hostile(journal: Path) -> Path:
    """The example journal with a conversation whose every field is markup."""
    body = msgspec.msgpack.encode({"type": SCRIPT, "text": SCRIPT + ATTRIBUTE})
    with sqlite3.connect(journal) as conn:
        conn.execute(
            "INSERT INTO actors (name, kind, args, options, state, handled, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, 0, 0, 0)",
            (SCRIPT, ATTRIBUTE, msgspec.msgpack.encode([]), b"", body),
        )
        rows = [
            ("h-1", SCRIPT, ATTRIBUTE, None, "dead", SCRIPT, ATTRIBUTE),
            ("h-2" + ATTRIBUTE, SCRIPT, ATTRIBUTE, "h-1", "pending", None, None),
        ]
        conn.executemany(
            "INSERT INTO messages (id, recipient, type, body, conversation, cause, created_at,"
            " attempts, status, error, traceback) VALUES (?, ?, ?, ?, 'h-1', ?, 1.0, 1, ?, ?, ?)",
            [(m, r, t, body, c, s, e, tb) for m, r, t, c, s, e, tb in rows],
        )
    conn.close()
    return journal


@pytest.mark.parametrize(
    "url",
    [
        "/conversations/h-1",
        "/conversations/h-1/timeline",
        "/messages/h-1",
        "/actors",
        "/actors/%3Cscript%3Ealert('owned')%3C%2Fscript%3E",
        "/dead",
        "/messages/%3Cb%3Enope",
    ],
)
def test_markup_from_the_journal_is_escaped(hostile: Path, client: TestClient, url: str) -> None:
    answer = client.get(url)
    assert answer.status_code in (200, 404), answer.text
    page = answer.text
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "<b>nope" not in page
    assert page.count("<script") == 1  # the UI's own, /assets/ui.js
    assert SCRIPT in shown(page) or "<b>nope" in shown(page)


@pytest.mark.parametrize("odd", ["h-2" + ATTRIBUTE, "a/b/../c", "100% sure?#yes", "école"])
def test_any_id_links_to_its_own_page(journal: Path, client: TestClient, odd: str) -> None:
    """Ids are quoted in links, so that any id (slashes, ?, #, %, non-ASCII) opens its page."""
    with sqlite3.connect(journal) as conn:
        conn.execute(
            "INSERT INTO messages (id, recipient, type, body, conversation, created_at)"
            " VALUES (?, 'bob', 'cli.Note', x'80', ?, 1.0)",
            (odd, odd),
        )
    conn.close()
    link = "/messages/" + quote(odd, safe="")
    conversation = client.get("/conversations/" + quote(odd, safe=""))
    assert conversation.status_code == 200
    assert f'href="{html.escape(link)}"' in conversation.text
    message = client.get(link)
    assert message.status_code == 200
    assert f"Message {odd}" in shown(message.text)
