"""Cancelling from the UI (U2): a POST form, only with writes allowed; a conversation's pending
messages and timers, or one pending message, become cancelled, never handled, kept."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from starlette.testclient import TestClient

from actorflow.ui import UiSettings

from ..cli.support import build_steps
from .conftest import client_for
from .support import form_secret, shown, status_of


@pytest.fixture
def writable(journal: Path) -> Iterator[TestClient]:
    with client_for(UiSettings(journal=journal, allow_writes=True)) as c:
        yield c


def test_a_read_only_ui_refuses_a_cancel_and_changes_nothing(
    client: TestClient, journal: Path
) -> None:
    page = client.get("/conversations/m-06").text
    assert "<form" not in page
    assert "--allow-writes to cancel" in shown(page)
    before = journal.read_bytes()
    secret = client.app.state.settings.form_secret  # type: ignore[attr-defined]
    answer = client.post("/actions/cancel", data={"conversation": "m-06", "form_secret": secret})
    assert answer.status_code == 403
    assert journal.read_bytes() == before
    assert status_of(journal, "m-06") == "pending"


def test_cancel_a_conversation_from_its_page(writable: TestClient, journal: Path) -> None:
    page = writable.get("/conversations/m-06").text
    assert "Cancel its pending messages and timers" in page
    answer = writable.post(
        "/actions/cancel", data={"conversation": "m-06", "form_secret": form_secret(page)}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/conversations/m-06?cancelled=1"
    assert status_of(journal, "m-06") == "cancelled"
    assert status_of(journal, "m-05") == "pending"  # another conversation
    after = writable.get(answer.headers["location"]).text
    assert "Cancelled 1 pending message or timer" in shown(after)
    assert "status-cancelled" in after
    message = shown(writable.get("/messages/m-06").text)
    assert "cancelled" in message
    assert "via ui" in message  # who: the browser's address, through the UI


def test_cancel_one_message_from_its_page(writable: TestClient, journal: Path) -> None:
    page = writable.get("/messages/m-05").text
    answer = writable.post(
        "/actions/cancel", data={"message": "m-05", "form_secret": form_secret(page)}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/messages/m-05?cancelled=1"
    assert status_of(journal, "m-05") == "cancelled"
    assert status_of(journal, "m-06") == "pending"


def test_cancel_needs_one_target_and_a_known_one(writable: TestClient, journal: Path) -> None:
    secret = form_secret(writable.get("/messages/m-05").text)
    both = writable.post(
        "/actions/cancel", data={"message": "m-05", "conversation": "m-06", "form_secret": secret}
    )
    assert both.status_code == 400
    assert "give one of conversation or message" in shown(both.text)
    unknown = writable.post("/actions/cancel", data={"conversation": "nope", "form_secret": secret})
    assert unknown.status_code == 404
    assert status_of(journal, "m-05") == "pending"


def test_cancel_a_conversation_cancels_its_timers(tmp_path: Path) -> None:
    path = tmp_path / "steps.db"
    anyio.run(build_steps, path, backend="asyncio")
    with client_for(UiSettings(journal=path, allow_writes=True)) as c:
        assert "1 pending timer" in shown(c.get("/timers").text)
        secret = form_secret(c.get("/conversations/s-01").text)
        answer = c.post("/actions/cancel", data={"conversation": "s-01", "form_secret": secret})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/conversations/s-01?cancelled=1"
        assert "0 pending timers" in shown(c.get("/timers").text)
    with sqlite3.connect(path) as conn:
        (left,) = conn.execute("SELECT count(*) FROM timers").fetchone()
    conn.close()
    assert left == 0
