"""The conversations list (filters, the JSON it polls, its fingerprint changing when the
journal does), a message's steps, and pending timers (U1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from starlette.testclient import TestClient

import actorflow as af
from actorflow import testing
from actorflow.journal import requeue
from actorflow.ui import UiSettings

from ..cli.support import Note
from .conftest import client_for
from .support import shown


def listed(client: TestClient, query: str = "") -> list[str]:
    answer = client.get("/api/conversations" + query)
    assert answer.status_code == 200, answer.text
    return [c["id"] for c in answer.json()["conversations"]]


def test_the_list_shows_every_conversation_newest_first(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    text = page.text
    order = [text.index(f'href="/conversations/{key}"') for key in ("m-06", "m-05", "m-02")]
    assert order == sorted(order)
    assert listed(client) == ["m-06", "m-05", "m-04", "m-02", "m-01"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status=dead", ["m-04"]),
        ("?status=pending", ["m-06", "m-05"]),
        ("?actor=bob", ["m-02"]),
        ("?limit=2", ["m-06", "m-05"]),
        ("?since=2025-01-01T00:03:30Z", ["m-06", "m-05", "m-04"]),
        ("?until=2025-01-01T00:03:30Z", ["m-02", "m-01"]),
        ("?status=&actor=&since=&until=&limit=", ["m-06", "m-05", "m-04", "m-02", "m-01"]),
    ],
)
def test_filters(client: TestClient, query: str, expected: list[str]) -> None:
    assert listed(client, query) == expected
    assert client.get("/" + query).status_code == 200


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("?status=later", "status: 'later' is not one of pending, done, dead, cancelled"),
        ("?since=yesterday", "since: 'yesterday' is neither an ISO 8601 time"),
        ("?until=99999-01-01", "until: "),
        ("?since=1h&until=2h", "until: must be later than since"),
        ("?limit=-3", "limit: "),
        ("?sort=name", "sort: unknown parameter"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(client: TestClient, query: str, named: str) -> None:
    for url in ("/", "/api/conversations"):
        answer = client.get(url + query)
        assert answer.status_code == 400, url
        assert named in shown(answer.text), url


def test_the_fingerprint_changes_when_the_journal_does(client: TestClient, journal: Path) -> None:
    """What the list polls (U1: refreshing live): unchanged, then changed by a write."""
    first = client.get("/api/conversations").json()["fingerprint"]
    assert client.get("/api/conversations").json()["fingerprint"] == first
    page = client.get("/").text
    assert f'data-fingerprint="{first}"' in page
    assert 'data-poll="/api/conversations"' in page
    requeue(journal, "m-04")
    assert client.get("/api/conversations").json()["fingerprint"] != first


def test_the_poll_keeps_the_filters(client: TestClient) -> None:
    page = client.get("/?status=dead&actor=alice").text
    assert 'data-poll="/api/conversations?status=dead&amp;actor=alice"' in page


class Remind(af.Message, tag="ui.Remind"):
    text: str


class Steps(af.State):
    seen: list[str] = []


class Stepper(af.Actor[Steps], kind="ui.Stepper"):
    async def on_note(self, msg: Note) -> None:
        async def answer() -> str:
            return f"answer to {msg.text}"

        self.state.seen.append(await self.ctx.step("ask", answer))
        self.state.seen.append(await self.ctx.step("ask", answer))

    def on_remind(self, msg: Remind) -> None:
        self.state.seen.append(msg.text)


@pytest.fixture
def stepped(tmp_path: Path) -> Iterator[TestClient]:
    """A journal with a message that recorded two steps, and a timer due in an hour."""
    path = tmp_path / "steps.db"

    async def write() -> None:
        async with af.ActorSystem(journal=path) as system:
            ref = await system.spawn(Stepper, name="stepper")
            await ref.tell(Note("what?"), id="s-1")
            await system.schedule(3600, Remind("later"), to=ref)
            await testing.wait_idle(system)

    anyio.run(write, backend="asyncio")
    with client_for(UiSettings(journal=path)) as c:
        yield c


def test_a_message_shows_its_steps_with_decoded_results(stepped: TestClient) -> None:
    page = stepped.get("/messages/s-1").text
    assert 'id="step-ask"' in page
    assert 'id="step-ask-2"' in page
    assert "answer to what?" in shown(page)


def test_the_timeline_has_a_bar_per_step_linking_to_it(stepped: TestClient) -> None:
    page = stepped.get("/conversations/s-1/timeline").text
    assert 'href="/messages/s-1#step-ask"' in page
    assert 'href="/messages/s-1#step-ask-2"' in page


def test_pending_timers(stepped: TestClient) -> None:
    text = shown(stepped.get("/timers").text)
    assert "1 pending timer" in text
    assert "stepper ui.Remind" in text
    assert "in 59m" in text or "in 1h" in text


def test_cancelled_messages_are_listed_and_show_who_cancelled_them(
    client: TestClient, journal: Path
) -> None:
    done = af.journal.cancel(journal, conversation="m-06", by="ops via test", wake=False)
    assert [m.id for m in done.messages] == ["m-06"]
    assert listed(client, "?status=cancelled") == ["m-06"]
    assert "1 cancelled" in shown(client.get("/conversations/m-06").text)
    page = shown(client.get("/messages/m-06").text)
    assert "cancelled" in page
    assert "by ops via test" in page
