"""U2: writes are POST forms, refused (403, nothing changed) unless the UI was started with
writes allowed; with them, a requeue makes a dead letter pending again (S7)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from actorflow.ui import UiSettings

from .conftest import client_for
from .support import form_secret, shown, status_of


@pytest.fixture
def writable(journal: Path) -> Iterator[TestClient]:
    with client_for(UiSettings(journal=journal, allow_writes=True)) as c:
        yield c


def test_a_read_only_ui_refuses_a_write_and_changes_nothing(
    client: TestClient, journal: Path
) -> None:
    before = journal.read_bytes()
    secret = client.app.state.settings.form_secret  # type: ignore[attr-defined]
    answer = client.post("/actions/requeue", data={"message": "m-04", "form_secret": secret})
    assert answer.status_code == 403
    assert "started read-only, so nothing was changed" in shown(answer.text)
    assert "--allow-writes" in shown(answer.text)
    assert journal.read_bytes() == before
    assert status_of(journal, "m-04") == "dead"


def test_a_read_only_ui_shows_no_write_button(client: TestClient) -> None:
    assert "<form" not in client.get("/messages/m-04").text
    assert "<form" not in client.get("/dead").text


def test_a_requeue_from_the_dead_letter_page(writable: TestClient, journal: Path) -> None:
    page = writable.get("/dead").text
    answer = writable.post(
        "/actions/requeue", data={"message": "m-04", "form_secret": form_secret(page)}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/messages/m-04?done=requeued"
    assert status_of(journal, "m-04") == "pending"
    shown_after = shown(writable.get(answer.headers["location"]).text)
    assert "Requeued: the message is pending again." in shown_after


def test_a_write_needs_the_form_secret_of_the_ui(writable: TestClient, journal: Path) -> None:
    """Another site's page cannot post here: it does not know the form secret."""
    for data in ({"message": "m-04"}, {"message": "m-04", "form_secret": "guessed"}):
        answer = writable.post("/actions/requeue", data=data)
        assert answer.status_code in (400, 403), data
    assert status_of(journal, "m-04") == "dead"


def test_requeue_of_a_message_that_is_not_dead_is_a_conflict(
    writable: TestClient, journal: Path
) -> None:
    secret = form_secret(writable.get("/dead").text)
    answer = writable.post("/actions/requeue", data={"message": "m-01", "form_secret": secret})
    assert answer.status_code == 409
    assert "is done, not dead" in shown(answer.text)
    missing = writable.post("/actions/requeue", data={"message": "m-99", "form_secret": secret})
    assert missing.status_code == 404


def test_a_write_is_a_post(writable: TestClient) -> None:
    assert writable.get("/actions/requeue?message=m-04").status_code == 405
