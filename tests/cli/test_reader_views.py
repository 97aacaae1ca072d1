"""`JournalReader.conversations`, `.steps`, `.conversation_steps` and `.timers`: the read views
the CLI and the web UI share (U1, P2)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec
import pytest

from actorflow import JournalCorrupt
from actorflow.journal import ConversationFilters, ConversationSummary, JournalReader

from .support import EPOCH, LONG_ANSWER


def conversations(path: Path, limit: int = 50, **filters: object) -> list[ConversationSummary]:
    with JournalReader.open(path) as j:
        return j.conversations(msgspec.convert(filters, ConversationFilters), limit=limit)


def ids(found: list[ConversationSummary]) -> list[str]:
    return [c.id for c in found]


def execute(path: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(sql, params)
    conn.close()


def test_u1_one_row_per_conversation_newest_first(journal: Path) -> None:
    found = conversations(journal)
    assert ids(found) == ["m-06", "m-05", "m-04", "m-02", "m-01"]
    m02 = found[3]
    assert m02 == ConversationSummary(
        id="m-02",
        first_message="m-02",
        first_actor="alice",
        statuses={"done": 2},
        messages=2,
        first_at=EPOCH + 120,
        last_at=EPOCH + 181.5,  # m-03 (seq 3) was done 1.5 s after it was created
        duration=61.5,
    )
    assert found[2].statuses == {"dead": 1}
    assert found[0].statuses == {"pending": 1}
    assert (found[0].last_at, found[0].duration) == (EPOCH + 360, 0.0)


def test_the_limit_keeps_the_newest(journal: Path) -> None:
    assert ids(conversations(journal, limit=2)) == ["m-06", "m-05"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "dead"}, ["m-04"]),
        ({"status": "pending"}, ["m-06", "m-05"]),
        ({"status": "done"}, ["m-02", "m-01"]),
        ({"actor": "bob"}, ["m-02"]),
        ({"actor": "carol"}, ["m-06", "m-05"]),
        ({"actor": "nobody"}, []),
        ({"since": EPOCH + 240}, ["m-06", "m-05", "m-04"]),
        ({"until": EPOCH + 240}, ["m-02", "m-01"]),
        ({"since": EPOCH + 60, "until": EPOCH + 121, "actor": "alice"}, ["m-02", "m-01"]),
        ({"status": "dead", "actor": "carol"}, []),
    ],
)
def test_p2_filters(journal: Path, filters: dict[str, object], expected: list[str]) -> None:
    assert ids(conversations(journal, **filters)) == expected


def test_a_status_filter_on_a_later_message_selects_its_conversation(journal: Path) -> None:
    execute(journal, "UPDATE messages SET status = 'dead', done_at = NULL WHERE id = 'm-03'")
    found = conversations(journal, status="dead")
    assert ids(found) == ["m-04", "m-02"]
    assert found[1].statuses == {"dead": 1, "done": 1}


def test_a_conversation_whose_first_message_was_compacted_starts_at_its_oldest(
    journal: Path,
) -> None:
    execute(journal, "DELETE FROM messages WHERE id = 'm-02'")
    found = conversations(journal)
    assert ids(found) == ["m-06", "m-05", "m-04", "m-02", "m-01"]
    assert (found[3].first_message, found[3].first_actor, found[3].messages) == ("m-03", "bob", 1)


def test_a_message_without_a_conversation_id_is_one(journal: Path) -> None:
    execute(journal, "UPDATE messages SET conversation = NULL WHERE id = 'm-01'")
    found = conversations(journal, actor="alice")
    assert ids(found) == ["m-04", "m-02", "m-01"]
    assert found[2].first_message == "m-01"


def test_status_counts_come_from_the_rows(journal: Path) -> None:
    """A status this reader does not know (one a newer actorflow writes) is counted too."""
    execute(journal, "UPDATE messages SET status = 'held' WHERE id = 'm-06'")
    assert conversations(journal)[0].statuses == {"held": 1}


def test_a_damaged_row_is_one_journal_corrupt(journal: Path) -> None:
    execute(journal, "UPDATE messages SET created_at = 'soon' WHERE id = 'm-05'")
    with pytest.raises(JournalCorrupt, match="journal row messages seq=5 is unreadable"):
        conversations(journal)


def test_j4_steps_of_a_message_in_the_order_recorded(steps_journal: Path) -> None:
    with JournalReader.open(steps_journal) as j:
        found = j.steps("s-01")
        assert j.steps("nope") == []
    assert [(s.message_id, s.step, s.created_at) for s in found] == [
        ("s-01", "search", EPOCH + 60.5),
        ("s-01", "llm", EPOCH + 60.75),
    ]
    assert msgspec.msgpack.decode(found[0].result) == {"question": "tides", "hits": [1, 2]}
    assert msgspec.msgpack.decode(found[1].result) == "about tides"


@pytest.mark.parametrize("key", ["s-01", "s-02"])
def test_steps_of_a_conversation_message_by_message(steps_journal: Path, key: str) -> None:
    with JournalReader.open(steps_journal) as j:
        found = j.conversation_steps(key)
    assert [(s.message_id, s.step) for s in found] == [
        ("s-01", "search"),
        ("s-01", "llm"),
        ("s-02", "search"),
        ("s-02", "llm"),
    ]
    assert msgspec.msgpack.decode(found[3].result) == LONG_ANSWER


def test_steps_of_an_unknown_conversation(steps_journal: Path) -> None:
    with JournalReader.open(steps_journal) as j:
        assert j.conversation_steps("nope") == []


def test_a_damaged_step_row_is_one_journal_corrupt(steps_journal: Path) -> None:
    execute(steps_journal, "UPDATE steps SET result = 'text' WHERE step = 'llm'")
    with JournalReader.open(steps_journal) as j, pytest.raises(JournalCorrupt, match="steps"):
        j.steps("s-01")


def test_j6_pending_timers(steps_journal: Path) -> None:
    with JournalReader.open(steps_journal) as j:
        (timer,) = j.timers()
    assert (timer.id, timer.message.recipient, timer.message.type) == (
        "t-01",
        "frank",
        "cli.Remind",
    )
    assert (timer.message.conversation, timer.message.cause) == ("s-01", "s-01")
    assert timer.due_at == EPOCH + 60 + 86400


def test_no_timers(journal: Path) -> None:
    with JournalReader.open(journal) as j:
        assert j.timers() == []
