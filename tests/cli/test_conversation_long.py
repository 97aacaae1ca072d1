"""``journal conversation`` on long conversations: chains collapsed into one line with a count,
``--depth``, ``--limit``, ``--expand`` (J7, U1)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actorflow.cli._output import WIDTH_VARIABLE
from actorflow.cli._tree import Below, Chain, More, Shown, tree_lines
from actorflow.journal import ConversationNode, MessageRecord, conversation_tree

from .support import EPOCH, cli, long_ids


def add_chain(path: Path, root: str, cause: str, length: int, *, first_seq: int) -> list[str]:
    """Append `length` messages to conversation `root`, each caused by the one before (the
    first by `cause`), between alice and bob, one second apart."""
    ids = [f"{root}.{i}" for i in range(length)]
    with sqlite3.connect(path) as conn:
        for i, m_id in enumerate(ids):
            conn.execute(
                "INSERT INTO messages (id, recipient, sender, type, body, conversation, cause,"
                " created_at, attempts, status, done_at) VALUES (?, ?, ?, 'cli.Note', x'80', ?,"
                " ?, ?, 1, 'done', ?)",
                (m_id, "bob" if i % 2 else "alice", "alice" if i % 2 else "bob", root,
                 ids[i - 1] if i else cause, EPOCH + first_seq + i, EPOCH + first_seq + i + 0.5),
            )  # fmt: skip
    conn.close()
    return ids


def first_id(row: str) -> str:
    found = re.search(r"m-0[0-9](\.[0-9]+)?", row)
    assert found is not None, row
    return found.group()


def run(journal: Path, *args: str) -> str:
    result = cli(["journal", "conversation", *args, "--journal", str(journal)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


@pytest.fixture
def chained(journal: Path) -> Path:
    """m-01 (a conversation of one in the example journal) followed by a 60-message chain."""
    add_chain(journal, "m-01", "m-01", 60, first_seq=1000)
    return journal


CHAIN = """\
conversation m-01: 61 messages across 2 actors, from 2025-01-01 00:01:00 UTC; 61 done, 0 pending, 0 dead
message            type       sender -> recipient   status    attempts      after       took
────────────────────────────────────────────────────────────────────────────────────────────
m-01               cli.Note   - -> alice            done             1      +0 ms   1,500 ms
└┄ 59 in a chain   cli.Note   alice <-> bob         59 done              +15m 40s     58.5 s
   └─ m-01.59      cli.Note   alice -> bob          done             1   +16m 39s     500 ms
"""  # noqa: E501 (the headline is 104 columns wide)


def test_u1_a_long_chain_is_one_line_with_a_count(chained: Path) -> None:
    assert run(chained, "m-01") == CHAIN


def test_expand_draws_every_message(journal: Path) -> None:
    add_chain(journal, "m-01", "m-01", 8, first_seq=1000)
    assert "in a chain" in run(journal, "m-01")
    rows = run(journal, "m-01", "--expand").splitlines()[3:]
    assert [first_id(row) for row in rows] == ["m-01", *(f"m-01.{i}" for i in range(8))]
    assert rows[8].startswith(" " * 21 + "└─ m-01.7 ")


def test_a_short_chain_is_drawn_in_full(journal: Path) -> None:
    add_chain(journal, "m-01", "m-01", 3, first_seq=1000)  # two would be hidden: too few
    rows = run(journal, "m-01").splitlines()[3:]
    assert [first_id(row) for row in rows] == ["m-01", "m-01.0", "m-01.1", "m-01.2"]


def test_chains_under_a_fork_are_each_collapsed(journal: Path) -> None:
    add_chain(journal, "m-02", "m-02", 10, first_seq=1000)
    add_chain(journal, "m-03", "m-03", 10, first_seq=2000)  # its own ids, in m-02's tree
    with sqlite3.connect(journal) as conn:
        conn.execute("UPDATE messages SET conversation = 'm-02' WHERE conversation = 'm-03'")
    conn.close()
    shape = [row.split("   cli.Note")[0].rstrip() for row in run(journal, "m-02").splitlines()]
    assert shape[3:] == [
        "m-02",
        "├─ m-03",
        "│  └┄ 9 in a chain",
        "│     └─ m-03.9",
        "└─ m-02.0",
        "   └┄ 8 in a chain",
        "      └─ m-02.9",
    ]


def test_depth_counts_what_is_below(chained: Path) -> None:
    rows = run(chained, "m-01", "--depth", "2").splitlines()[3:]
    assert [row.rstrip() for row in rows] == [
        row.rstrip()
        for row in [
            "m-01                     cli.Note   - -> alice            done            1      +0 ms   1,500 ms",  # noqa: E501
            "└─ m-01.0                cli.Note   bob -> alice          done            1   +15m 40s     500 ms",  # noqa: E501
            "   └─ m-01.1             cli.Note   alice -> bob          done            1   +15m 41s     500 ms",  # noqa: E501
            "      └┄ 58 more below",
        ]
    ]  # fmt: skip


def test_limit_counts_the_rest(journal: Path) -> None:
    assert "not shown" not in run(journal, "m-01", "--limit", "1")  # nothing more to show
    add_chain(journal, "m-01", "m-01", 5, first_seq=1000)
    rows = run(journal, "m-01", "--expand", "--limit", "2").splitlines()
    assert len(rows) == 3 + 2 + 1
    assert rows[-1] == "(4 more messages not shown; see --limit)"


def test_json_never_collapses_and_takes_depth_and_limit(chained: Path) -> None:
    def ids(*args: str) -> list[str]:
        out = run(chained, "m-01", "--json", *args)
        return [json.loads(line)["id"] for line in out.splitlines()]

    assert len(ids()) == 61
    assert ids("--depth", "1") == ["m-01", "m-01.0"]
    assert ids("--limit", "3") == ["m-01", "m-01.0", "m-01.1"]


@pytest.mark.parametrize("args", [["--depth", "-1"], ["--limit", "0"]])
def test_p3_bad_bounds(journal: Path, args: list[str]) -> None:
    result = cli(["journal", "conversation", "m-01", *args, "--journal", str(journal)])
    assert result.exit_code == 2
    assert result.stderr.startswith("actorflow: error: ")


# -- the lines of any tree ----------------------------------------------------------------------


@st.composite
def trees(draw: st.DrawFn) -> list[MessageRecord]:
    """A conversation: each message caused by an earlier one (or a root), in seq order."""
    count = draw(st.integers(1, 40))
    records = []
    for i in range(count):
        cause = draw(st.none() | st.integers(0, i - 1)) if i else None
        # Mostly the message just before: long chains, with forks now and then.
        if cause is not None and draw(st.booleans()):
            cause = i - 1
        records.append(
            MessageRecord(
                id=f"t-{i}",
                recipient="a",
                type="t",
                body=b"",
                cause=None if cause is None else f"t-{cause}",
                seq=i + 1,
            )
        )
    return records


def walk(roots: list[ConversationNode]) -> list[str]:
    return [m.id for root in roots for _, m in root.walk()]


@settings(max_examples=200, deadline=None)
@given(
    records=trees(),
    depth=st.none() | st.integers(0, 6),
    limit=st.none() | st.integers(1, 40),
    collapse=st.booleans(),
)
def test_every_message_is_drawn_or_counted_once_in_order(
    records: list[MessageRecord], depth: int | None, limit: int | None, collapse: bool
) -> None:
    roots = conversation_tree(records)
    lines = list(tree_lines(roots, depth=depth, limit=limit, collapse=collapse))
    accounted = 0
    drawn: list[str] = []
    for line in lines:
        if isinstance(line, Shown):
            accounted += 1
            drawn.append(line.message.id)
            assert depth is None or line.depth <= depth
        elif isinstance(line, Chain):
            assert collapse
            assert len(line.messages) >= 3
            accounted += len(line.messages)
            drawn += [m.id for m in line.messages]
        elif isinstance(line, Below):
            assert line.hidden > 0
            accounted += line.hidden
        else:
            assert isinstance(line, More)
            assert line is lines[-1]
            accounted += line.hidden
    assert accounted == len(records)
    assert sum(isinstance(line, Shown) for line in lines) <= (limit or len(records))
    everything = walk(roots)
    assert drawn == [m for m in everything if m in set(drawn)]  # depth-first order kept
    if depth is None and limit is None and not collapse:
        assert drawn == everything


def test_u1_a_collapsed_chain_in_a_narrow_terminal_keeps_ids_whole(chained: Path) -> None:
    ids = long_ids(chained)
    result = cli(
        ["journal", "conversation", ids[0], "--journal", str(chained)], env={WIDTH_VARIABLE: "80"}
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    first, last = ids[0], ids[-1]  # m-01, then the last of the chain (seq order: m-01.59)
    assert [line for line in lines if not line.lstrip("│ ").startswith(_FIELDS)] == [
        lines[0],
        first,
        "└┄ 59 in a chain",
        f"   └─ {last}",
    ]
    assert "         status               done" in lines  # the last message's fields
    assert "   │  status               59 done" in lines  # the chain's, with a bar down
    assert not any(line.rstrip() != line for line in lines)


_FIELDS = ("type ", "sender -> recipient ", "status ", "attempts ", "after ", "took ")
