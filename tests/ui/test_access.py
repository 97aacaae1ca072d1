"""U2: with a token, every request needs it (missing, wrong and right tokens, as a cookie set
from ``?token=``, or a header); bound to loopback, only loopback host names are answered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from actorflow.ui import UiSettings

from .conftest import client_for
from .support import shown

TOKEN = "s3cret-token-of-the-test-0123"


@pytest.fixture
def guarded(journal: Path) -> Iterator[TestClient]:
    with client_for(UiSettings(journal=journal, token=TOKEN), loopback_only=False) as c:
        yield c


@pytest.mark.parametrize("url", ["/stats", "/messages/m-01", "/assets/ui.css", "/nowhere"])
def test_without_the_token_every_request_is_refused(guarded: TestClient, url: str) -> None:
    answer = guarded.get(url)
    assert answer.status_code == 401
    assert "needs its access token" in shown(answer.text)
    assert "hello" not in answer.text  # nothing of the journal


def test_a_wrong_token_is_refused(guarded: TestClient) -> None:
    assert guarded.get("/stats?token=wrong").status_code == 401
    assert guarded.get("/stats", headers={"Authorization": "Bearer wrong"}).status_code == 401
    guarded.cookies.set("actorflow_ui_token", "wrong")
    assert guarded.get("/stats").status_code == 401


def test_the_token_in_the_address_sets_a_cookie_and_is_dropped_from_it(
    guarded: TestClient,
) -> None:
    entered = guarded.get(f"/dead?limit=5&token={TOKEN}")
    assert entered.status_code == 303
    assert entered.headers["location"] == "/dead?limit=5"
    cookie = entered.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    after = guarded.get("/dead?limit=5")  # the client keeps the cookie, as a browser does
    assert after.status_code == 200
    assert 'href="/messages/m-04"' in after.text


def test_the_token_as_a_bearer_header(guarded: TestClient) -> None:
    answer = guarded.get("/stats", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200


def test_a_loopback_ui_answers_only_to_loopback_names(journal: Path) -> None:
    """A page of another site cannot reach the UI through a name of its own (DNS rebinding)."""
    with client_for(UiSettings(journal=journal)) as c:
        assert c.get("/stats").status_code == 200
        assert c.get("/stats", headers={"Host": "localhost:8233"}).status_code == 200
        assert c.get("/stats", headers={"Host": "127.0.0.2:8233"}).status_code == 200
        assert c.get("/stats", headers={"Host": "[::1]:8233"}).status_code == 200
        foreign = c.get("/stats", headers={"Host": "attacker.example:8233"})
    assert foreign.status_code == 400
    assert "answers only to localhost or a loopback address" in shown(foreign.text)
