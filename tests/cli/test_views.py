"""``journal conversations``, ``journal steps``, ``journal timers`` and the steps in ``journal
show``: tables for people, JSON lines for programs, one error line for bad input (U1, P2, P3)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from .support import EPOCH, LONG_ANSWER, assert_one_error_line, cli

CONVERSATIONS_TABLE = """\
conversation   first actor   messages   statuses    started (UTC)         last (UTC)                took
────────────────────────────────────────────────────────────────────────────────────────────────────────
m-06           carol                1   1 pending   2025-01-01 00:06:00   2025-01-01 00:06:00       0 ms
m-05           carol                1   1 pending   2025-01-01 00:05:00   2025-01-01 00:05:00       0 ms
m-04           alice                1   1 dead      2025-01-01 00:04:00   2025-01-01 00:04:00       0 ms
m-02           alice                2   2 done      2025-01-01 00:02:00   2025-01-01 00:03:01     61.5 s
m-01           alice                1   1 done      2025-01-01 00:01:00   2025-01-01 00:01:01   1,500 ms
"""  # noqa: E501 (the table is 104 columns wide)

STEPS_TABLE = """\
message   step     recorded (UTC)        bytes   result
─────────────────────────────────────────────────────────────────────────────────────────
s-01      search   2025-01-01 00:01:00      24   {"question":"tides","hits":[1,2]}
s-01      llm      2025-01-01 00:01:00      12   "about tides"
s-02      search   2025-01-01 00:02:00      32   {"question":"more on tides","hits":[1,2…
s-02      llm      2025-01-01 00:02:00     303   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…
"""

TIMERS_TABLE = """\
id     actor   type         due (UTC)             conversation
──────────────────────────────────────────────────────────────
t-01   frank   cli.Remind   2025-01-02 00:01:00   s-01
"""


def run(journal: Path, *args: str) -> str:
    result = cli(["journal", *args, "--journal", str(journal)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def lines(journal: Path, *args: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run(journal, *args, "--json").splitlines()]


# -- conversations -----------------------------------------------------------------------------


def test_u1_conversations_table(journal: Path) -> None:
    assert run(journal, "conversations") == CONVERSATIONS_TABLE


def test_conversations_json(journal: Path) -> None:
    found = lines(journal, "conversations")
    assert [c["id"] for c in found] == ["m-06", "m-05", "m-04", "m-02", "m-01"]
    assert found[3] == {
        "id": "m-02",
        "first_message": "m-02",
        "first_actor": "alice",
        "messages": 2,
        "statuses": {"done": 2},
        "first_at": "2025-01-01T00:02:00.000000Z",
        "last_at": "2025-01-01T00:03:01.500000Z",
        "duration_ms": 61500.0,
    }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--status", "dead"], ["m-04"]),
        (["--actor", "bob"], ["m-02"]),
        (["--since", "2025-01-01T00:04:00Z"], ["m-06", "m-05", "m-04"]),
        (["--until", "2025-01-01 00:02:00"], ["m-01"]),
        (["--status", "pending", "--limit", "1"], ["m-06"]),
    ],
)
def test_p2_conversations_filters(journal: Path, args: list[str], expected: list[str]) -> None:
    assert [c["id"] for c in lines(journal, "conversations", *args)] == expected


def test_no_conversations_match(journal: Path) -> None:
    assert run(journal, "conversations", "--actor", "nobody") == "no conversations match\n"
    assert run(journal, "conversations", "--actor", "nobody", "--json") == ""


def test_the_status_counts_list_every_status_present(journal: Path) -> None:
    with sqlite3.connect(journal) as conn:
        conn.execute("UPDATE messages SET status = 'dead', done_at = NULL WHERE id = 'm-03'")
    conn.close()
    row = run(journal, "conversations", "--actor", "bob").splitlines()[2]
    assert "1 done, 1 dead" in row


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--status", "lost"], "'lost' is not one of 'pending', 'done', 'dead'"),
        (["--since", "yesterday"], "'yesterday' is neither an ISO 8601 time"),
        (["--limit", "0"], "0 is not in the range x>=1"),
        (["--actor", "\udcff"], "is not valid UTF-8 text"),
    ],
)
def test_p3_conversations_bad_filters(journal: Path, args: list[str], fragment: str) -> None:
    assert_one_error_line(cli(["journal", "conversations", *args, "--journal", str(journal)]),
                          2, fragment)  # fmt: skip


def test_p3_conversations_of_a_missing_journal(tmp_path: Path) -> None:
    result = cli(["journal", "conversations", "--journal", str(tmp_path / "none.db")])
    assert_one_error_line(result, 1, "no journal at")


# -- steps -------------------------------------------------------------------------------------


def test_j4_steps_of_a_conversation_table(steps_journal: Path) -> None:
    assert run(steps_journal, "steps", "--conversation", "s-02") == STEPS_TABLE


def test_steps_of_a_message(steps_journal: Path) -> None:
    table = run(steps_journal, "steps", "s-01")
    assert table.splitlines()[2:] == STEPS_TABLE.splitlines()[2:4]


def test_steps_json_has_the_whole_result(steps_journal: Path) -> None:
    found = lines(steps_journal, "steps", "s-02")
    assert found == [
        {
            "message_id": "s-02",
            "step": "search",
            "created_at": "2025-01-01T00:02:00.500000Z",
            "bytes": 32,
            "result": {"question": "more on tides", "hits": [1, 2]},
        },
        {
            "message_id": "s-02",
            "step": "llm",
            "created_at": "2025-01-01T00:02:00.750000Z",
            "bytes": 303,
            "result": LONG_ANSWER,
        },
    ]


def test_full_prints_long_results_whole(steps_journal: Path) -> None:
    out = run(steps_journal, "steps", "s-02", "--full")
    assert out == (
        "search  (message s-02, 2025-01-01 00:02:00 UTC, 32 bytes)\n"
        '{\n  "question": "more on tides",\n  "hits": [\n    1,\n    2\n  ]\n}\n'
        "\n"
        "llm  (message s-02, 2025-01-01 00:02:00 UTC, 303 bytes)\n"
        f'"{LONG_ANSWER}"\n'
    )


def test_an_undecodable_step_result_says_so(steps_journal: Path) -> None:
    with sqlite3.connect(steps_journal) as conn:
        conn.execute("UPDATE steps SET result = x'c1' WHERE message_id = 's-01' AND step = 'llm'")
    conn.close()
    assert "(not shown: cannot decode 1 bytes as msgpack" in run(steps_journal, "steps", "s-01")
    (_, llm) = lines(steps_journal, "steps", "s-01")
    assert llm["result"] is None
    assert llm["result_error"].startswith("cannot decode 1 bytes as msgpack")


def test_a_message_with_no_steps(journal: Path) -> None:
    assert run(journal, "steps", "m-01") == "message m-01 recorded no steps\n"
    assert run(journal, "steps", "--conversation", "m-02") == (
        "conversation m-02 recorded no steps\n"
    )


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        ([], 2, "give a MESSAGE_ID or --conversation ID"),
        (["s-01", "--conversation", "s-01"], 2, "give a MESSAGE_ID or --conversation ID"),
        (["nope"], 1, "no message with id 'nope' in"),
        (["--conversation", "nope"], 1, "no conversation or message with id 'nope' in"),
    ],
)
def test_p3_steps_bad_input(steps_journal: Path, args: list[str], code: int, fragment: str) -> None:
    result = cli(["journal", "steps", *args, "--journal", str(steps_journal)])
    assert_one_error_line(result, code, fragment)


def test_show_lists_the_steps(steps_journal: Path) -> None:
    out = run(steps_journal, "show", "s-02")
    assert out.endswith("\n\nsteps (2):\n" + "".join(
        line + "\n" for line in [STEPS_TABLE.splitlines()[0], STEPS_TABLE.splitlines()[1],
                                 *STEPS_TABLE.splitlines()[4:]]
    ))  # fmt: skip
    assert f'"{LONG_ANSWER}"' in run(steps_journal, "show", "s-02", "--full")
    (shown,) = lines(steps_journal, "show", "s-02")
    assert [(s["step"], s["bytes"]) for s in shown["steps"]] == [("search", 32), ("llm", 303)]


def test_show_of_a_message_with_no_steps_lists_none(journal: Path) -> None:
    assert "steps" not in run(journal, "show", "m-03")
    (shown,) = lines(journal, "show", "m-03")
    assert shown["steps"] == []


# -- timers ------------------------------------------------------------------------------------


def test_j6_timers_table(steps_journal: Path) -> None:
    assert run(steps_journal, "timers") == TIMERS_TABLE


def test_timers_json(steps_journal: Path) -> None:
    assert lines(steps_journal, "timers") == [
        {
            "id": "t-01",
            "recipient": "frank",
            "type": "cli.Remind",
            "due_at": "2025-01-02T00:01:00.000000Z",
            "created_at": "2025-01-01T00:01:00.000000Z",
            "sender": "erin",
            "conversation": "s-01",
            "cause": "s-01",
            "body": {"type": "cli.Remind", "about": "tides"},
        }
    ]


def test_timers_soonest_first_and_limited(steps_journal: Path) -> None:
    with sqlite3.connect(steps_journal) as conn:
        conn.execute(
            "INSERT INTO timers (id, recipient, type, body, created_at, due_at)"
            " VALUES ('t-00', 'erin', 'cli.Remind', x'80', ?, ?)",
            (EPOCH, EPOCH + 3600),
        )
    conn.close()
    assert [t["id"] for t in lines(steps_journal, "timers")] == ["t-00", "t-01"]
    out = run(steps_journal, "timers", "--limit", "1")
    assert out.splitlines()[2].startswith("t-00 ")
    assert out.splitlines()[3:] == ["(only the 1 soonest are shown; see --limit)"]


def test_no_timers(journal: Path) -> None:
    assert run(journal, "timers") == "no pending timers\n"


def test_an_actor_filter_finds_a_name_stored_decomposed(journal: Path) -> None:
    """A journal written before names were NFC may hold one in NFD; typed in NFC it is found."""
    decomposed = "e\u0301cole"
    with sqlite3.connect(journal) as conn:
        conn.execute("UPDATE messages SET recipient = ? WHERE recipient = 'alice'", (decomposed,))
    conn.close()
    found = lines(journal, "conversations", "--actor", "\u00e9cole")
    assert [c["id"] for c in found] == ["m-04", "m-02", "m-01"]
    report = json.loads(run(journal, "requeue", "--actor", "\u00e9cole", "--dry-run", "--json"))
    assert [m["id"] for m in report["messages"]] == ["m-04"]


def test_a_filter_given_twice_is_a_usage_error(journal: Path) -> None:
    result = cli(
        [
            "journal",
            "conversations",
            "--actor",
            "bob",
            "--actor",
            "carol",
            "--journal",
            str(journal),
        ]
    )
    assert_one_error_line(result, 2, "given 2 times ('bob', 'carol'); give it once")
