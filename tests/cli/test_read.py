"""The read-only commands on the example journal: tables for people, JSON lines for programs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from actorflow.journal import SCHEMA_VERSION

from .support import cli

ACTORS_TABLE = """\
name    kind           state bytes   pending   handled   last activity (UTC)
────────────────────────────────────────────────────────────────────────────
alice   cli.Notebook            25         0         2   2025-01-01 00:02:01
bob     cli.Notebook            19         0         1   2025-01-01 00:03:01
carol   cli.Notebook             -         2         0   2025-01-01 00:00:00
"""

MESSAGES_TABLE = """\
seq   id     time (UTC)            sender   recipient   type       status    attempts
─────────────────────────────────────────────────────────────────────────────────────
  6   m-06   2025-01-01 00:06:00   -        carol       cli.Note   pending          0
  5   m-05   2025-01-01 00:05:00   -        carol       cli.Hold   pending          1
  4   m-04   2025-01-01 00:04:00   -        alice       cli.Fail   dead             1
  3   m-03   2025-01-01 00:03:00   alice    bob         cli.Note   done             1
  2   m-02   2025-01-01 00:02:00   -        alice       cli.Note   done             1
  1   m-01   2025-01-01 00:01:00   -        alice       cli.Note   done             1
"""

DEAD_TABLE = """\
seq   id     time (UTC)            recipient   type       attempts   error
────────────────────────────────────────────────────────────────────────────────────────────
  4   m-04   2025-01-01 00:04:00   alice       cli.Fail          1   RuntimeError: bad input
"""


def run(journal: Path, *args: str) -> str:
    result = cli(["journal", *args, "--journal", str(journal)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def lines(journal: Path, *args: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run(journal, *args, "--json").splitlines()]


def ids(journal: Path, *args: str) -> list[str]:
    return [m["id"] for m in lines(journal, "messages", *args)]


# -- golden tables -----------------------------------------------------------------------------


def test_actors_table(journal: Path) -> None:
    assert run(journal, "actors") == ACTORS_TABLE


def test_messages_table(journal: Path) -> None:
    assert run(journal, "messages") == MESSAGES_TABLE


def test_tables_are_plain_and_fixed_width_when_not_a_terminal(journal: Path) -> None:
    result = cli(["journal", "messages", "--journal", str(journal)], env={"COLUMNS": "40"})
    assert result.stdout == MESSAGES_TABLE  # neither the terminal's width nor colour
    assert "\x1b[" not in result.stdout


def test_journal_data_is_never_read_as_markup(journal: Path) -> None:
    with sqlite3.connect(journal) as conn:
        conn.execute("UPDATE actors SET kind = '[bold red]x[/]' WHERE name = 'bob'")
    conn.close()
    assert "[bold red]x[/]" in run(journal, "actors")


# -- stats -------------------------------------------------------------------------------------


def test_stats(journal: Path) -> None:
    out = run(journal, "stats").splitlines()
    assert out[0] == f"file            {journal}"
    assert out[1].startswith("size            ")
    assert out[1].endswith(" bytes (+ 0 in the WAL file)")
    assert out[2:] == [
        f"schema version  {SCHEMA_VERSION}",
        "messages        6: 2 pending, 3 done, 1 dead, 0 cancelled",
        "actors          3",
        "dead letters    1",
        "oldest pending  2025-01-01 00:05:00 UTC (seq 5, id m-05)",
    ]


def test_stats_json(journal: Path) -> None:
    (stats,) = lines(journal, "stats")
    assert stats == {
        "file": str(journal),
        "size_bytes": journal.stat().st_size,
        "wal_bytes": 0,
        "schema_version": SCHEMA_VERSION,
        "messages": {"pending": 2, "done": 3, "dead": 1, "cancelled": 0},
        "actors": 3,
        "dead_letters": 1,
        "oldest_pending": {"seq": 5, "id": "m-05", "created_at": "2025-01-01T00:05:00.000000Z"},
    }


def test_stats_of_a_journal_with_nothing_pending(journal: Path) -> None:
    with sqlite3.connect(journal) as conn:
        conn.execute("DELETE FROM messages WHERE status = 'pending'")
    conn.close()
    (stats,) = lines(journal, "stats")
    assert stats["oldest_pending"] is None
    assert run(journal, "stats").splitlines()[-1] == "oldest pending  -"


# -- actors ------------------------------------------------------------------------------------


def test_actors_json(journal: Path) -> None:
    assert lines(journal, "actors") == [
        {
            "name": "alice",
            "kind": "cli.Notebook",
            "state_bytes": 25,
            "pending": 0,
            "handled": 2,
            "updated_at": "2025-01-01T00:02:01.500000Z",
        },
        {
            "name": "bob",
            "kind": "cli.Notebook",
            "state_bytes": 19,
            "pending": 0,
            "handled": 1,
            "updated_at": "2025-01-01T00:03:01.500000Z",
        },
        {
            "name": "carol",
            "kind": "cli.Notebook",
            "state_bytes": None,
            "pending": 2,
            "handled": 0,
            "updated_at": "2025-01-01T00:00:00.000000Z",
        },
    ]


# -- messages ----------------------------------------------------------------------------------


def test_messages_json(journal: Path) -> None:
    first = lines(journal, "messages")[-1]
    assert first == {
        "seq": 1,
        "id": "m-01",
        "created_at": "2025-01-01T00:01:00.000000Z",
        "sender": None,
        "recipient": "alice",
        "type": "cli.Note",
        "status": "done",
        "attempts": 1,
        "conversation": "m-01",
        "cause": None,
        "done_at": "2025-01-01T00:01:01.500000Z",
        "cancelled_at": None,
        "cancelled_by": None,
    }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ["m-06", "m-05", "m-04", "m-03", "m-02", "m-01"]),
        (["--actor", "alice"], ["m-04", "m-03", "m-02", "m-01"]),  # to or by alice
        (["--actor", "bob"], ["m-03"]),
        (["--actor", "nobody"], []),
        (["--type", "cli.Note"], ["m-06", "m-03", "m-02", "m-01"]),
        (["--status", "pending"], ["m-06", "m-05"]),
        (["--status", "dead"], ["m-04"]),
        (["--status", "done", "--actor", "alice"], ["m-03", "m-02", "m-01"]),
        (["--limit", "2"], ["m-06", "m-05"]),
        (["--since", "2025-01-01T00:05:00Z"], ["m-06", "m-05"]),
        (["--since", "2025-01-01 00:05"], ["m-06", "m-05"]),  # no zone: UTC
        (["--since", "2025-01-01T01:05:00+01:00"], ["m-06", "m-05"]),
        (["--until", "2025-01-01T00:02:00Z"], ["m-01"]),  # until is exclusive
        (["--since", "2025-01-01T00:02:00", "--until", "2025-01-01T00:04:00"], ["m-03", "m-02"]),
        (["--since", "1d"], []),  # the example journal is from 2025
        (["--until", "10m"], ["m-06", "m-05", "m-04", "m-03", "m-02", "m-01"]),
        (["--since", "2h30m", "--until", "1s"], []),
    ],
)
def test_message_filters(journal: Path, args: list[str], expected: list[str]) -> None:
    assert ids(journal, *args) == expected


def test_conversation_filter(journal: Path) -> None:
    # J7: m-02 came from outside and started a conversation; m-03, sent while handling it,
    # joined it.
    assert ids(journal, "--conversation", "m-02") == ["m-03", "m-02"]
    assert ids(journal, "--conversation", "m-01") == ["m-01"]
    assert ids(journal, "--conversation", "c-2") == []


def test_p2_filters_are_values_not_sql(journal: Path) -> None:
    assert ids(journal, "--actor", "alice' OR '1'='1") == []
    assert ids(journal, "--type", "%") == []
    assert len(ids(journal)) == 6  # and nothing was changed


def test_no_matching_messages_says_so(journal: Path) -> None:
    assert run(journal, "messages", "--actor", "nobody") == "no messages match\n"


# -- show --------------------------------------------------------------------------------------


def test_show_json_has_every_column_and_the_decoded_body(journal: Path) -> None:
    (shown,) = lines(journal, "show", "m-04")
    traceback = shown.pop("traceback")
    assert shown == {
        "seq": 4,
        "id": "m-04",
        "created_at": "2025-01-01T00:04:00.000000Z",
        "sender": None,
        "recipient": "alice",
        "type": "cli.Fail",
        "status": "dead",
        "attempts": 1,
        "conversation": "m-04",
        "cause": None,
        "done_at": None,
        "cancelled_at": None,
        "cancelled_by": None,
        "body": {"type": "cli.Fail", "reason": "bad input"},
        "error": "RuntimeError: bad input",
        "steps": [],
    }
    assert traceback.startswith("Traceback (most recent call last):")
    assert traceback.endswith("RuntimeError: bad input\n")


def test_show_for_people(journal: Path) -> None:
    out = run(journal, "show", "m-03")
    assert out == (
        "seq           3\n"
        "id            m-03\n"
        "type          cli.Note\n"
        "sender        alice\n"
        "recipient     bob\n"
        "status        done\n"
        "attempts      1\n"
        "created       2025-01-01 00:03:00 UTC\n"
        "done          2025-01-01 00:03:01 UTC\n"
        "cancelled     -\n"
        "conversation  m-02\n"
        "cause         m-02\n"
        "body bytes    55\n"
        "\n"
        "body:\n"
        "{\n"
        '  "type": "cli.Note",\n'
        '  "text": "from alice",\n'
        '  "forward_to": null,\n'
        '  "forward_id": null\n'
        "}\n"
    )
    dead = run(journal, "show", "m-04")
    assert "\nerror:\nRuntimeError: bad input\n\ntraceback:\nTraceback (most recent" in dead


def test_show_an_undecodable_body_says_so_in_a_field(journal: Path) -> None:
    with sqlite3.connect(journal) as conn:
        conn.execute("UPDATE messages SET body = x'c1c1' WHERE id = 'm-01'")
    conn.close()
    (shown,) = lines(journal, "show", "m-01")
    assert shown["body"] is None
    assert shown["body_error"].startswith("cannot decode 2 bytes as msgpack")
    assert "(not shown: cannot decode 2 bytes as msgpack" in run(journal, "show", "m-01")


def test_show_a_body_json_cannot_hold(journal: Path) -> None:
    with sqlite3.connect(journal) as conn:  # msgpack ext type 5: valid msgpack, no JSON form
        conn.execute("UPDATE messages SET body = x'd40501' WHERE id = 'm-01'")
    conn.close()
    (shown,) = lines(journal, "show", "m-01")
    assert shown["body"] is None
    assert "no JSON form" in shown["body_error"]


# -- state -------------------------------------------------------------------------------------


def test_state(journal: Path) -> None:
    assert (
        run(journal, "state", "alice")
        == '{\n  "notes": [\n    "hello",\n    "pass it on"\n  ]\n}\n'
    )
    assert lines(journal, "state", "bob") == [
        {
            "name": "bob",
            "kind": "cli.Notebook",
            "state_bytes": 19,
            "state": {"notes": ["from alice"]},
        }
    ]


def test_state_of_an_actor_without_one_is_null(journal: Path) -> None:
    assert run(journal, "state", "carol") == "null\n"
    (carol,) = lines(journal, "state", "carol")
    assert carol["state"] is None
    assert carol["state_bytes"] is None


def test_state_that_cannot_be_decoded(journal: Path) -> None:
    with sqlite3.connect(journal) as conn:
        conn.execute("UPDATE actors SET state = x'c1' WHERE name = 'bob'")
    conn.close()
    (bob,) = lines(journal, "state", "bob")
    assert bob["state"] is None
    assert bob["state_error"].startswith("cannot decode 1 bytes as msgpack")
    assert run(journal, "state", "bob").startswith("(state of 1 bytes not shown: cannot decode")


# -- dead --------------------------------------------------------------------------------------


def test_dead_table(journal: Path) -> None:
    assert run(journal, "dead") == DEAD_TABLE


def test_dead_json_has_error_and_traceback(journal: Path) -> None:
    (letter,) = lines(journal, "dead")
    assert (letter["id"], letter["error"]) == ("m-04", "RuntimeError: bad input")
    assert "RuntimeError: bad input" in letter["traceback"]
    assert letter["body"] == {"type": "cli.Fail", "reason": "bad input"}


def test_no_dead_letters(journal: Path) -> None:
    with sqlite3.connect(journal) as conn:
        conn.execute("DELETE FROM messages WHERE status = 'dead'")
    conn.close()
    assert run(journal, "dead") == "no dead letters\n"
    assert run(journal, "dead", "--json") == ""


# -- tail --------------------------------------------------------------------------------------


def test_tail_prints_the_newest_oldest_first(journal: Path) -> None:
    assert run(journal, "tail", "--limit", "3") == (
        "2025-01-01 00:04:00  #4  - -> alice  cli.Fail  dead     m-04\n"
        "2025-01-01 00:05:00  #5  - -> carol  cli.Hold  pending  m-05\n"
        "2025-01-01 00:06:00  #6  - -> carol  cli.Note  pending  m-06\n"
    )
    assert [m["id"] for m in lines(journal, "tail")] == [
        "m-01",
        "m-02",
        "m-03",
        "m-04",
        "m-05",
        "m-06",
    ]
    assert run(journal, "tail", "--limit", "0") == ""


# -- export ------------------------------------------------------------------------------------


def test_export_is_every_message_then_every_actor(journal: Path) -> None:
    exported = [json.loads(line) for line in run(journal, "export").splitlines()]
    assert [(e["kind"], e.get("id") or e["name"]) for e in exported] == [
        ("message", "m-01"),
        ("message", "m-02"),
        ("message", "m-03"),
        ("message", "m-04"),
        ("message", "m-05"),
        ("message", "m-06"),
        ("actor", "alice"),
        ("actor", "bob"),
        ("actor", "carol"),
    ]
    assert exported[1]["body"] == {
        "type": "cli.Note",
        "text": "pass it on",
        "forward_to": "bob",
        "forward_id": "m-03",
    }
    assert exported[6] == {
        "kind": "actor",
        "name": "alice",
        "actor_kind": "cli.Notebook",
        "args": [],
        "options": {
            "restart": "permanent",
            "mailbox_size": 1000,
            "max_attempts": 1,
            "shutdown_timeout": 5.0,
            "passivate_after": None,
            "module": "tests.cli.support",
        },
        "state": {"notes": ["hello", "pass it on"]},
        "supervisor": None,
        "handled": 2,
        "created_at": "2025-01-01T00:00:00.000000Z",
        "updated_at": "2025-01-01T00:02:01.500000Z",
    }
    assert run(journal, "export", "--json") == run(journal, "export")


def test_p2_reading_leaves_the_journal_as_it_was(journal: Path) -> None:
    before = journal.read_bytes()
    for command in (["stats"], ["actors"], ["messages"], ["show", "m-01"], ["state", "alice"]):
        run(journal, *command)
    for command in (["dead"], ["tail"], ["export"]):
        run(journal, *command)
    assert journal.read_bytes() == before


def test_a_path_with_uri_characters(journal: Path) -> None:
    odd = journal.rename(journal.with_name("odd #1 ?x=1 %20.db"))
    assert lines(odd, "stats")[0]["file"] == str(odd)
    assert cli(["journal", "requeue", "m-04", "--journal", str(odd)]).exit_code == 0
    assert lines(odd, "show", "m-04")[0]["status"] == "pending"
