"""``actorflow send``: a message from the shell, checked as a tell would be, then journaled (J11).

These run in-process on the example journal, whose actors are `tests.cli.support.Notebook`s;
tests/cli/test_send_live.py sends to a running system.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import msgspec
import pytest
from click.testing import Result

from actorflow.durable import ActorOptions
from actorflow.journal import _sqlite_source

from .support import assert_one_error_line, cli, restart_until_fixed, write_lock_held


def send(path: Path, *args: str) -> Result:
    return cli(["send", *args, "--journal", str(path)])


def show(path: Path, message_id: str) -> dict[str, Any]:
    result = cli(["journal", "show", message_id, "--journal", str(path), "--json"])
    assert result.exit_code == 0, result.output
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


def count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        (n,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    conn.close()
    return int(n)


def set_actor(path: Path, name: str, **columns: Any) -> None:
    with sqlite3.connect(path) as conn:
        for column, value in columns.items():
            conn.execute(f"UPDATE actors SET {column} = ? WHERE name = ?", (value, name))
    conn.close()


def options_with_module(module: str) -> bytes:
    return msgspec.msgpack.encode(ActorOptions(module=module))


# -- sending -----------------------------------------------------------------------------------


def test_send_appends_the_message_from_outside_and_prints_its_id(journal: Path) -> None:
    result = send(journal, "alice", "cli.Note", '{"text": "hi"}', "--id", "s-1")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "s-1\n", "")
    sent = show(journal, "s-1")
    expected = {
        "seq": 7,
        "sender": None,
        "recipient": "alice",
        "type": "cli.Note",
        "status": "pending",
        "attempts": 0,
        "conversation": "s-1",
        "cause": None,
    }
    assert {k: sent[k] for k in expected} == expected
    assert sent["body"] == {
        "type": "cli.Note",
        "text": "hi",
        "forward_to": None,
        "forward_id": None,
    }
    with sqlite3.connect(journal) as conn:
        assert conn.execute("SELECT message_id FROM notices").fetchall() == [("s-1",)]
    conn.close()


def test_send_without_an_id_makes_one(journal: Path) -> None:
    first = send(journal, "bob", "cli.Note", '{"text": "a"}')
    second = send(journal, "bob", "cli.Note", '{"text": "b"}')
    assert first.exit_code == second.exit_code == 0
    ids = [first.stdout.strip(), second.stdout.strip()]
    assert ids[0] != ids[1]
    assert [show(journal, i)["body"]["text"] for i in ids] == ["a", "b"]


def test_send_json_says_what_it_did(journal: Path) -> None:
    result = send(
        journal, "alice", "Note", '{"text": "x"}', "--id", "s-2", "--conversation", "c-9", "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "id": "s-2",
        "seq": 7,
        "conversation": "c-9",
        "recipient": "alice",
        "type": "cli.Note",
        "duplicate": False,
        "woken": False,  # no system runs on this journal
    }
    assert show(journal, "s-2")["conversation"] == "c-9"


def test_type_is_a_tag_or_an_unambiguous_class_name(journal: Path) -> None:
    by_tag = send(journal, "carol", "cli.Fail", '{"reason": "r"}', "--id", "t-1")
    by_name = send(journal, "carol", "Fail", '{"reason": "r"}', "--id", "t-2")
    assert by_tag.exit_code == by_name.exit_code == 0
    assert show(journal, "t-1")["type"] == show(journal, "t-2")["type"] == "cli.Fail"


def test_a_message_with_no_fields(journal: Path) -> None:
    assert send(journal, "carol", "cli.Hold", "{}", "--id", "h-1").exit_code == 0
    assert show(journal, "h-1")["body"] == {"type": "cli.Hold"}


def test_a_repeated_id_is_a_no_op_and_says_so(journal: Path) -> None:
    assert send(journal, "alice", "cli.Note", '{"text": "once"}', "--id", "s-1").exit_code == 0
    before = count(journal)
    again = send(journal, "alice", "cli.Note", '{"text": "twice"}', "--id", "s-1")
    assert again.exit_code == 0
    assert again.stdout == "s-1\n"
    assert again.stderr == (
        "actorflow: message 's-1' is in the journal already (seq 7, cli.Note to alice,"
        " pending): not sent again\n"
    )
    as_json = send(journal, "alice", "cli.Note", '{"text": "x"}', "--id", "s-1", "--json")
    assert json.loads(as_json.stdout)["duplicate"] is True
    assert json.loads(as_json.stdout)["seq"] == 7
    assert count(journal) == before
    assert show(journal, "s-1")["body"]["text"] == "once"
    # An id any message has, whatever its actor, is taken.
    assert json.loads(send(journal, "bob", "Note", '{"text": "y"}', "--id", "m-01", "--json")
                      .stdout)["duplicate"] is True  # fmt: skip


@pytest.mark.anyio
async def test_a_sent_message_is_delivered_when_a_system_next_starts(journal: Path) -> None:
    result = await anyio.to_thread.run_sync(
        send, journal, "bob", "cli.Fail", '{"reason": "from the shell"}', "--id", "s-1"
    )
    assert result.exit_code == 0, result.output
    await restart_until_fixed(journal, "from the shell")  # bob comes back from the journal
    assert show(journal, "s-1")["status"] == "done"


# -- what the actor accepts --------------------------------------------------------------------


def test_an_unknown_actor(journal: Path) -> None:
    before = journal.read_bytes()
    assert_one_error_line(
        send(journal, "zed", "cli.Note", "{}"),
        1,
        "no actor named 'zed'",
        "actorflow journal actors",
    )
    assert journal.read_bytes() == before


def test_an_unknown_type_lists_the_accepted_ones(journal: Path) -> None:
    assert_one_error_line(
        send(journal, "alice", "cli.Nope", "{}"),
        1,
        "actor 'alice' (Notebook) accepts no message type 'cli.Nope';"
        " it accepts: cli.Fail, cli.Hold, cli.Note",
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{", "Invalid value for 'JSON': is not JSON: Input data was truncated"),
        ("hello", "is not JSON: JSON is malformed"),
        ('{"text": 3}', 'does not fit cli.Note (an object {"text": str,'),
        ('{"text": 3}', "Expected `str`, got `int` - at `$.text`"),
        ("{}", "Object missing required field `text`"),
        ("[1, 2]", "Expected `object`, got `array`"),
        ('{"type": "cli.Fail", "text": "x"}', "Invalid value 'cli.Fail' - at `$.type`"),
        ("\ud800", "is not valid UTF-8 text"),
    ],
)
def test_json_that_does_not_fit_is_a_usage_error(journal: Path, body: str, expected: str) -> None:
    before = journal.read_bytes()
    line = assert_one_error_line(send(journal, "alice", "cli.Note", body), 2, expected)
    assert line.endswith("; see 'actorflow send --help'")
    assert journal.read_bytes() == before


@pytest.mark.parametrize("option", ["--id", "--conversation"])
def test_an_empty_id_is_a_usage_error(journal: Path, option: str) -> None:
    assert_one_error_line(
        send(journal, "alice", "cli.Note", '{"text": "x"}', option, ""),
        2,
        f"Invalid value for '{option}': cannot be empty",
    )


# -- importing the actor's module --------------------------------------------------------------


def test_a_module_that_is_not_there(journal: Path) -> None:
    set_actor(journal, "alice", options=options_with_module("no_such_app.agents"))
    set_actor(journal, "alice", kind="other.Kind")  # not registered in this process
    assert_one_error_line(
        send(journal, "alice", "cli.Note", '{"text": "x"}'),
        1,
        "cannot import no_such_app.agents (which defines actor 'alice', the journal says):"
        " no module named 'no_such_app'; run from your application's directory or pass"
        " --app MODULE",
    )


def test_a_bad_app_option_is_a_usage_error(journal: Path) -> None:
    assert_one_error_line(
        send(journal, "alice", "cli.Note", '{"text": "x"}', "--app", "no_such_app"),
        2,
        "Invalid value for '--app': cannot import no_such_app: no module named 'no_such_app';"
        " check the name",
    )


def test_a_module_that_fails_on_import(
    journal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "boom_app.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert_one_error_line(
        send(journal, "alice", "cli.Note", '{"text": "x"}', "--app", "boom_app"),
        1,
        "importing boom_app (given with --app) failed: RuntimeError: boom (run with --debug",
    )
    debug = cli(
        ["--debug", "send", "alice", "cli.Note", "{}", "--app", "boom_app", "--journal",
         str(journal)]
    )  # fmt: skip
    assert isinstance(debug.exception, Exception)
    assert isinstance(debug.exception.__cause__, RuntimeError)


def test_a_module_that_does_not_define_the_kind(journal: Path) -> None:
    set_actor(journal, "alice", kind="cli.Gone")
    assert_one_error_line(
        send(journal, "alice", "cli.Note", '{"text": "x"}', "--app", "json"),
        1,
        "importing json and tests.cli.support did not define actor 'alice' (kind 'cli.Gone');"
        " pass --app MODULE, the module that defines it",
    )


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("__main__", "was defined in a script run as __main__; pass --app MODULE"),
        ("", "the journal does not say which module defines actor 'alice'"),
    ],
)
def test_when_the_journal_does_not_name_an_importable_module(
    journal: Path, module: str, expected: str
) -> None:
    set_actor(journal, "alice", kind="cli.Gone", options=options_with_module(module))
    assert_one_error_line(send(journal, "alice", "cli.Note", "{}"), 1, expected)


def test_unreadable_options_are_as_good_as_none(journal: Path) -> None:
    set_actor(journal, "alice", kind="cli.Gone", options=b"\xc1")
    assert_one_error_line(
        send(journal, "alice", "cli.Note", "{}"), 1, "the journal does not say which module"
    )


def test_app_imports_a_module_first(
    journal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notes_app.py").write_text(
        "import actorflow as af\n"
        "class Memo(af.Message, tag='notes_app.Memo'):\n    text: str\n"
        "class Pad(af.Actor[None], kind='notes_app.Pad'):\n"
        "    def on_memo(self, msg: Memo) -> None:\n        pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    set_actor(journal, "bob", kind="notes_app.Pad", options=options_with_module("__main__"))
    result = send(journal, "bob", "Memo", '{"text": "m"}', "--app", "notes_app", "--id", "p-1")
    assert result.exit_code == 0, result.output
    assert show(journal, "p-1")["type"] == "notes_app.Memo"


# -- the journal -------------------------------------------------------------------------------


def test_send_checks_the_file_first(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    assert_one_error_line(send(missing, "alice", "cli.Note", "{}"), 1, "no journal at")
    assert not missing.exists()


def test_send_waits_for_the_write_lock_then_says_who_holds_it(
    journal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sqlite_source, "BUSY_TIMEOUT", 0.05)
    with write_lock_held(journal):
        assert_one_error_line(
            send(journal, "alice", "cli.Note", '{"text": "x"}', "--id", "l-1"),
            1,
            "cannot append a message in",
            "another process holds the write lock",
        )
    assert send(journal, "alice", "cli.Note", '{"text": "x"}', "--id", "l-1").exit_code == 0
