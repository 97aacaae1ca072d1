"""Ids are never cut or wrapped in a table (U1): other columns give way first, then blocks."""

from __future__ import annotations

import io
import os
import pty
import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from actorflow.cli._output import WIDTH_VARIABLE, Column, Output

from .support import assert_one_error_line, cli, long_ids


def run(journal: Path, width: int, *args: str) -> list[str]:
    result = cli(["journal", *args, "--journal", str(journal)], env={WIDTH_VARIABLE: str(width)})
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def whole_on_one_line(ids: list[str], lines: list[str]) -> None:
    for message_id in ids:
        assert any(message_id in line for line in lines), (message_id, lines)
    # No piece of an id is left alone on a line: each line holding part of one holds all of it.
    for line in lines:
        for message_id in ids:
            for cut in range(8, len(message_id)):
                if line.rstrip().endswith(message_id[:cut]):
                    raise AssertionError(f"id {message_id} cut in {line!r}")


def test_u1_messages_at_80_columns_keep_every_id_whole(journal: Path) -> None:
    ids = long_ids(journal)
    lines = run(journal, 80, "messages")
    whole_on_one_line(ids, lines)
    assert all(len(line) <= 80 for line in lines), lines
    # The table does not fit with 26-column ids: one block per row, the newest first.
    assert lines[:3] == [
        "seq         6",
        f"id          {ids[5]}",
        "time (UTC)  2025-01-01 00:06:00",
    ]


def test_u1_at_80_columns_other_columns_give_way_before_blocks(journal: Path) -> None:
    lines = run(journal, 80, "messages")
    assert lines[0].split() == [
        *("seq", "id", "time", "(UTC)", "sender", "recipient", "type", "status", "attempts")
    ]
    assert (
        lines[2] == "  6   m-06   2025-01-01   -        carol       cli.Note   pending          0"
    )
    assert lines[3] == "             00:06:00"
    assert all(len(line) <= 80 for line in lines), lines


def test_u1_the_conversation_tree_never_breaks_an_id(journal: Path) -> None:
    ids = long_ids(journal)
    lines = run(journal, 80, "conversation", ids[1])
    whole_on_one_line(ids[1:3], lines)
    assert lines[1] == ids[1]
    assert lines[2] == "│  type                 cli.Note"
    assert f"└─ {ids[2]}" in lines
    assert "      sender -> recipient  alice -> bob" in lines
    wide = run(journal, 200, "conversation", ids[1])
    assert wide[3].startswith(f"{ids[1]}      cli.Note   - -> alice ")
    assert wide[4].startswith(f"└─ {ids[2]}   cli.Note   alice -> bob ")


def test_u1_dead_letters_fold_the_error_not_the_id(journal: Path) -> None:
    ids = long_ids(journal)
    with sqlite3.connect(journal) as conn:
        conn.execute(
            "UPDATE messages SET error = ? WHERE status = 'dead'", ("RuntimeError: " + "x" * 100,)
        )
    conn.close()
    lines = run(journal, 120, "dead")
    whole_on_one_line([ids[3]], lines)
    assert all(len(line) <= 120 for line in lines), lines
    assert lines[2].startswith(f"  4   {ids[3]}   2025-01-01 00:04:00   alice ")
    assert len(lines) > 3  # the error wrapped onto the next lines


def test_u1_actor_names_are_whole(journal: Path) -> None:
    name = "agent/" + "n" * 70
    with sqlite3.connect(journal) as conn:
        conn.execute("UPDATE actors SET name = ? WHERE name = 'bob'", (name,))
    conn.close()
    lines = run(journal, 80, "actors")
    assert f"name                 {name}" in lines


def test_a_width_that_is_not_a_number_is_one_line(journal: Path) -> None:
    result = cli(["journal", "messages", "--journal", str(journal)], env={WIDTH_VARIABLE: "wide"})
    assert_one_error_line(result, 1, "ACTORFLOW_WIDTH='wide' is not a width")


_words = st.text(st.characters(codec="utf-8", categories=["L", "N", "P"]), min_size=1, max_size=12)
_cells = st.lists(_words, min_size=1, max_size=4).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(
    keys=st.lists(st.booleans(), min_size=1, max_size=7),
    data=st.data(),
    width=st.integers(min_value=20, max_value=200),
)
def test_u1_property_key_values_are_never_broken(
    keys: list[bool], data: st.DataObject, width: int
) -> None:
    columns = [Column(f"c{i}", key=key, fold=not key and i % 2 == 0) for i, key in enumerate(keys)]
    key_cell = st.text("abcdef0123456789-", min_size=1, max_size=40)
    rows = data.draw(
        st.lists(st.tuples(*(key_cell if key else _cells for key in keys)), min_size=1, max_size=5)
    )
    stream = io.StringIO()
    Output(stream, width=width).table(columns, rows)
    lines = stream.getvalue().splitlines()
    blocks = len(lines) < 2 or not lines[1].startswith("─")
    for row in rows:
        for key, cell in zip(keys, row, strict=True):
            if key:
                assert any(cell in line for line in lines), (cell, lines)
    if not blocks:
        assert all(len(line) <= width for line in lines), lines


def test_status_is_coloured_on_a_terminal_only(journal: Path) -> None:
    columns = [Column("id", key=True), Column("status", styles={"dead": "bold red"})]
    rows = [("m-1", "dead"), ("m-2", "done")]
    plain = io.StringIO()
    Output(plain).table(columns, rows)
    assert "\x1b[" not in plain.getvalue()
    leader, follower = pty.openpty()
    try:
        with open(follower, "w", encoding="utf-8", closefd=False) as terminal:
            Output(terminal).table(columns, rows)
            terminal.flush()
        shown = os.read(leader, 65536).decode()
    finally:
        os.close(leader)
        os.close(follower)
    assert "\x1b[1;31mdead" in shown
    assert "\x1b[1;31mdone" not in shown
    assert "done" in shown
