"""``journal conversation ID``: a conversation as a tree across actors (J7)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from actorflow.cli._conversation import duration

from .support import EPOCH, assert_one_error_line, cli

TREE = """\
conversation m-02: 5 messages across 3 actors, from 2025-01-01 00:02:00 UTC; 3 done, 1 pending, 1 dead
message     type       sender -> recipient   status    attempts       after       took
──────────────────────────────────────────────────────────────────────────────────────
m-02        cli.Note   - -> alice            done             1       +0 ms   1,500 ms
├─ m-03     cli.Note   alice -> bob          done             1     +60.0 s   1,500 ms
│  └─ x-2   cli.Note   bob -> alice          pending          0     +80.0 s          -
└─ x-1      cli.Note   alice -> carol        done             1     +250 ms     500 ms
   └─ x-3   cli.Note   carol -> bob          dead             3   +1,000 ms          -
"""  # noqa: E501 (the headline is 102 columns wide)


def branch(path: Path) -> None:
    """Add messages to conversation m-02 (m-02 -> m-03 in the example journal):

    m-02  alice
    ├─ m-03  alice -> bob
    │  └─ x-2  bob -> alice     pending
    └─ x-1  alice -> carol
       └─ x-3  carol -> bob     dead
    """
    rows = [
        ("x-1", "carol", "alice", "m-02", 120.25, "done", 1, 120.75),
        ("x-2", "alice", "bob", "m-03", 200.0, "pending", 0, None),
        ("x-3", "bob", "carol", "x-1", 121.0, "dead", 3, None),
    ]
    with sqlite3.connect(path) as conn:
        for m_id, recipient, sender, cause, at, status, attempts, done in rows:
            conn.execute(
                "INSERT INTO messages (id, recipient, type, body, sender, conversation, cause,"
                " created_at, attempts, status, done_at) VALUES (?, ?, 'cli.Note', x'80', ?,"
                " 'm-02', ?, ?, ?, ?, ?)",
                (m_id, recipient, sender, cause, EPOCH + at, attempts, status,
                 None if done is None else EPOCH + done),
            )  # fmt: skip
    conn.close()


def run(journal: Path, *args: str) -> str:
    result = cli(["journal", "conversation", *args, "--journal", str(journal)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def test_p2_j7_the_conversation_as_a_tree(journal: Path) -> None:
    branch(journal)
    assert run(journal, "m-02") == TREE


@pytest.mark.parametrize("key", ["m-02", "m-03", "x-3"])
def test_any_message_of_a_conversation_names_it(journal: Path, key: str) -> None:
    branch(journal)
    assert run(journal, key) == run(journal, "m-02")


def test_json_lines_depth_first_with_depth(journal: Path) -> None:
    branch(journal)
    found = [json.loads(line) for line in run(journal, "m-03", "--json").splitlines()]
    assert [(m["id"], m["depth"], m["cause"]) for m in found] == [
        ("m-02", 0, None),
        ("m-03", 1, "m-02"),
        ("x-2", 2, "m-03"),
        ("x-1", 1, "m-02"),
        ("x-3", 2, "x-1"),
    ]
    assert {m["conversation"] for m in found} == {"m-02"}
    assert (found[1]["after_ms"], found[1]["took_ms"]) == (60000.0, 1500.0)
    assert found[2]["took_ms"] is None
    assert found[0]["created_at"] == "2025-01-01T00:02:00.000000Z"


def test_a_conversation_of_one(journal: Path) -> None:
    assert run(journal, "m-01", "--json").count("\n") == 1
    assert run(journal, "m-04").splitlines()[0] == (
        "conversation m-04: 1 message across 1 actor, from 2025-01-01 00:04:00 UTC;"
        " 0 done, 0 pending, 1 dead"
    )


def test_a_message_without_a_conversation_id_is_its_own(journal: Path) -> None:
    with sqlite3.connect(journal) as conn:
        conn.execute("UPDATE messages SET conversation = NULL WHERE id = 'm-01'")
    conn.close()
    (line,) = run(journal, "m-01", "--json").splitlines()
    assert json.loads(line)["id"] == "m-01"


def test_an_unknown_id(journal: Path) -> None:
    assert_one_error_line(
        cli(["journal", "conversation", "nope", "--journal", str(journal)]),
        1,
        "no conversation or message with id 'nope' in",
        "actorflow journal messages",
    )


def test_a_missing_journal(tmp_path: Path) -> None:
    result = cli(["journal", "conversation", "m-01", "--journal", str(tmp_path / "x.db")])
    assert_one_error_line(result, 1, "no journal at")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0 ms"),
        (0.0004, "0 ms"),
        (0.25, "250 ms"),
        (9.9994, "9,999 ms"),
        (12.34, "12.3 s"),
        (245.0, "4m 05s"),
        (3 * 3600 + 7 * 60, "3h 07m"),
        (50 * 3600, "2d 02h"),
        (-0.005, "-5 ms"),
    ],
)
def test_durations(seconds: float, text: str) -> None:
    assert duration(seconds) == text
