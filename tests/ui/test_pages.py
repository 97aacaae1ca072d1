"""Each page of the UI over the example journal: what it shows, and its answers to bad input
(U1): an unknown id is a 404 page, a bad parameter a 400 page naming it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from .support import shown


def test_a_conversation_is_a_tree_of_its_messages(client: TestClient) -> None:
    page = client.get("/conversations/m-02")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert text.index('href="/messages/m-02"') < text.index('href="/messages/m-03"')
    assert "└─ " in text  # m-03 drawn under m-02, which sent it
    assert "2 messages across 2 actors" in shown(text)


def test_a_message_id_opens_its_conversation(client: TestClient) -> None:
    page = client.get("/conversations/m-03")
    assert page.status_code == 200
    assert "Conversation m-02" in shown(page.text)


def test_the_timeline_has_a_bar_per_message_linking_to_it(client: TestClient) -> None:
    page = client.get("/conversations/m-02/timeline")
    assert page.status_code == 200
    assert page.text.count('<svg class="track"') == 2
    assert 'href="/messages/m-03" class="bar message' in page.text


def test_a_message_shows_body_status_cause_and_children(client: TestClient) -> None:
    sender = client.get("/messages/m-02").text
    assert "pass it on" in sender
    assert 'href="/messages/m-03"' in sender  # what it caused
    child = client.get("/messages/m-03").text
    assert '<dt>cause</dt><dd><a href="/messages/m-02"' in child


def test_a_dead_letter_shows_its_error_and_traceback(client: TestClient) -> None:
    page = client.get("/messages/m-04").text
    assert "status-dead" in page
    assert "RuntimeError: bad input" in shown(page)
    assert "Traceback" in page


def test_actors_show_pending_counts_and_decoded_state(client: TestClient) -> None:
    actors = client.get("/actors").text
    assert 'href="/actors/carol"' in actors
    carol = client.get("/actors/carol").text
    assert "m-05" in carol
    assert "m-06" in carol
    alice = client.get("/actors/alice").text
    assert "hello" in alice  # her decoded state holds the notes she took


def test_dead_letters_and_stats(client: TestClient) -> None:
    dead = client.get("/dead").text
    assert 'href="/messages/m-04"' in dead
    assert "m-05" not in dead
    stats = client.get("/stats").text
    assert "dead letters 1" in shown(stats)


def test_assets_are_served_by_the_ui_itself(client: TestClient) -> None:
    """U2: no CDN; every asset comes from the package, and the pages say so to the browser."""
    page = client.get("/stats")
    assert "http://" not in page.text
    assert "https://" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/assets/ui.css", "/assets/ui.js"):
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert answer.text.strip()


@pytest.mark.parametrize("url", ["/messages/nope", "/conversations/nope", "/actors/nobody"])
def test_an_unknown_id_is_a_404_page_naming_it(client: TestClient, url: str) -> None:
    answer = client.get(url)
    assert answer.status_code == 404
    assert "'nope'" in shown(answer.text) or "'nobody'" in shown(answer.text)
    assert answer.headers["content-type"].startswith("text/html")


def test_an_unknown_address_is_a_404_page(client: TestClient) -> None:
    answer = client.get("/no/such/page")
    assert answer.status_code == 404
    assert "no page at this address" in shown(answer.text)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("/dead?limit=0", "limit: "),
        ("/dead?limit=many", "limit: "),
        ("/dead?limit=1001", "limit: "),
        ("/dead?colour=red", "colour: unknown parameter"),
        ("/messages/m-01?done=hacked", "done: "),
        ("/stats?x=1", "x: unknown parameter"),
    ],
)
def test_a_bad_parameter_is_a_400_page_naming_it(client: TestClient, url: str, named: str) -> None:
    answer = client.get(url)
    assert answer.status_code == 400
    assert named in shown(answer.text)


def test_a_journal_that_went_away_is_an_error_page_not_a_traceback(
    client: TestClient, journal: Path
) -> None:
    journal.unlink()
    answer = client.get("/stats")
    assert answer.status_code == 500
    assert "no journal at" in shown(answer.text)
    assert "Traceback" not in answer.text


def test_a_long_chain_is_drawn_cut_and_with_bounded_guides(
    client: TestClient, journal: Path
) -> None:
    """A 2,500-message chain (each message caused by the one before): the first 2,000 are
    drawn, the page says so, and deep rows give their depth instead of ever-longer guides."""
    with sqlite3.connect(journal) as conn:
        conn.executemany(
            "INSERT INTO messages (id, recipient, type, body, conversation, cause, created_at,"
            " attempts, status, done_at) VALUES (?, 'bob', 'cli.Note', x'80', 'chain', ?, ?, 1,"
            " 'done', ?)",
            [
                (f"c-{i}", None if i == 0 else f"c-{i - 1}", 100.0 + i, 100.5 + i)
                for i in range(2500)
            ],
        )
    conn.close()
    for url in ("/conversations/chain", "/conversations/chain/timeline"):
        answer = client.get(url)
        assert answer.status_code == 200, url
        text = shown(answer.text)
        assert "Showing the first 2,000 of 2,500 messages" in text
        assert 'href="/messages/c-1999"' in answer.text
        assert 'href="/messages/c-2000"' not in answer.text
        assert len(answer.text) < 3_000_000
    tree = client.get("/conversations/chain").text
    assert "⋯ depth 1999 " in tree  # c-1999, the last drawn
