"""Bad input is one clear line on stderr and a non-zero exit, never a traceback (P3).

Exit 2 for a wrong command line (Click's usage errors), 1 for everything else.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from actorflow.journal import _reader

from .support import assert_one_error_line, cli


def on(path: Path, *args: str) -> list[str]:
    return ["journal", *args, "--journal", str(path)]


def sql(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


# -- the file ----------------------------------------------------------------------------------


def test_a_missing_file_given_with_journal(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    assert_one_error_line(
        cli(on(missing, "stats")), 1, f"no journal at {missing};", "--journal PATH"
    )
    assert not missing.exists()  # reading never creates a journal


def test_a_missing_file_from_the_environment(tmp_path: Path) -> None:
    result = cli(["journal", "stats"], env={"ACTORFLOW_JOURNAL": str(tmp_path / "env.db")})
    assert_one_error_line(result, 1, "env.db (from ACTORFLOW_JOURNAL)")


def test_the_environment_names_the_journal(journal: Path) -> None:
    result = cli(["journal", "stats", "--json"], env={"ACTORFLOW_JOURNAL": str(journal)})
    assert result.exit_code == 0
    assert f'"file":"{journal}"' in result.stdout


def test_a_missing_default_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert_one_error_line(
        cli(["journal", "actors"]), 1, f"no journal at actorflow.db (the default, in {tmp_path})"
    )


def test_a_directory(tmp_path: Path) -> None:
    assert_one_error_line(cli(on(tmp_path, "stats")), 1, "is a directory")


def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n" * 100)
    assert_one_error_line(
        cli(on(path, "messages")), 1, "is not a SQLite database, so not an actorflow journal"
    )


EMPTY = "not an actorflow journal; delete it to start a new journal there, or check the path"


@pytest.mark.parametrize("command", ["stats", "actors", "messages", "dead"])
def test_p3_an_empty_file_is_refused_as_actorflow_run_refuses_it(
    tmp_path: Path, command: str
) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    line = assert_one_error_line(cli(on(path, command)), 1, f"{path} is an empty file, {EMPTY}")
    assert line == f"actorflow: error: {path} is an empty file, {EMPTY}"
    assert path.stat().st_size == 0


def test_p3_a_sqlite_database_without_tables_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blank.db"
    sql(path, "PRAGMA user_version = 1")
    assert_one_error_line(cli(on(path, "stats")), 1, f"{path} is an empty SQLite database, {EMPTY}")


def test_a_sqlite_file_that_is_not_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    sql(path, "CREATE TABLE things (x)")
    assert_one_error_line(
        cli(on(path, "actors")), 1, "not an actorflow journal (it has no actorflow_meta table)"
    )


def test_a_journal_of_a_newer_schema(journal: Path) -> None:
    sql(journal, "UPDATE actorflow_meta SET value = '99' WHERE key = 'schema_version'")
    assert_one_error_line(
        cli(on(journal, "stats")), 1, "newer actorflow (journal schema 99", "upgrade actorflow"
    )


def test_a_journal_of_an_older_schema(journal: Path) -> None:
    sql(journal, "UPDATE actorflow_meta SET value = '0' WHERE key = 'schema_version'")
    assert_one_error_line(cli(on(journal, "stats")), 1, "older than", "to migrate it")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE actorflow_meta SET value = 'one' WHERE key = 'schema_version'",
        "DELETE FROM actorflow_meta",
    ],
)
def test_a_journal_without_a_readable_schema_version(journal: Path, statement: str) -> None:
    sql(journal, statement)
    assert_one_error_line(cli(on(journal, "stats")), 1, "no readable schema_version")


def test_a_damaged_file(journal: Path) -> None:
    data = bytearray(journal.read_bytes())
    page = 4096
    data[page : len(data)] = b"\xa5" * (len(data) - page)  # keep the header, ruin every table
    journal.write_bytes(bytes(data))
    line = assert_one_error_line(cli(on(journal, "messages")), 1)
    assert "malformed" in line or "not a database" in line


# -- what is asked for -------------------------------------------------------------------------


def test_an_unknown_actor(journal: Path) -> None:
    assert_one_error_line(
        cli(on(journal, "state", "zed")),
        1,
        "no actor named 'zed'",
        "actorflow journal actors",
    )


@pytest.mark.parametrize("command", ["show", "requeue"])
def test_an_unknown_message_id(journal: Path, command: str) -> None:
    assert_one_error_line(
        cli(on(journal, command, "m-99")), 1, "no message with id 'm-99'", "journal messages"
    )


def test_an_id_with_a_newline_stays_on_one_line(journal: Path) -> None:
    assert_one_error_line(cli(on(journal, "show", "a\nb")), 1, r"'a\nb'")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--since", "yesterday"], "'yesterday' is neither an ISO 8601 time"),
        (["--until", "2025-13-01"], "Invalid value for '--until'"),
        (["--since", ""], "Invalid value for '--since'"),
        (["--since", "10 minutes"], "nor a duration ago"),
        (["--since", "2025-02-30"], "'2025-02-30' is neither"),
        (["--limit", "0"], "Invalid value for '--limit'"),
        (["--limit", "many"], "'many' is not a valid integer"),
        (["--status", "lost"], "'lost' is not one of 'pending', 'done', 'dead'"),
        (["--actor", "\udcff"], "is not valid UTF-8 text"),
    ],
)
def test_a_bad_filter_is_a_usage_error(journal: Path, args: list[str], fragment: str) -> None:
    line = assert_one_error_line(cli(on(journal, "messages", *args)), 2, fragment)
    assert line.endswith("see 'actorflow journal messages --help'")


def test_a_missing_option_value_is_a_usage_error(journal: Path) -> None:
    args = ["journal", "messages", "--journal", str(journal), "--actor"]
    assert_one_error_line(cli(args), 2, "Option '--actor' requires an argument", "--help")


def test_a_bad_limit_elsewhere(journal: Path) -> None:
    assert_one_error_line(cli(on(journal, "dead", "--limit", "-1")), 2, "'--limit'")
    assert_one_error_line(cli(on(journal, "tail", "--limit", "-1")), 2, "'--limit'")


def test_a_huge_limit_means_no_limit(journal: Path) -> None:
    result = cli(on(journal, "messages", "--json", "--limit", str(10**30)))
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 6


# -- rows that are not what the schema says --------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "command", "fragment"),
    [
        (
            "UPDATE messages SET created_at = 'noon' WHERE id = 'm-02'",
            "messages",
            "journal row messages seq=2 is unreadable (created_at is str 'noon')",
        ),
        (
            "UPDATE messages SET body = 'text' WHERE id = 'm-02'",
            "export",
            "journal row messages seq=2 is unreadable (body is str",
        ),
        (
            "UPDATE messages SET status = 'lost' WHERE id = 'm-02'",
            "stats",
            "have status 'lost'",
        ),
        (
            "UPDATE messages SET status = 'lost' WHERE id = 'm-02'",
            "tail",
            "status 'lost' is not pending, done, dead or cancelled",
        ),
        (
            "UPDATE actors SET handled = 'many' WHERE name = 'bob'",
            "actors",
            "journal row actors name='bob' is unreadable (handled is str 'many')",
        ),
        (
            "UPDATE actors SET state = 'text' WHERE name = 'bob'",
            "export",
            "journal row actors name='bob' is unreadable (state is str",
        ),
        (
            "UPDATE messages SET recipient = CAST(x'ff0a41' AS TEXT) WHERE id = 'm-02'",
            "messages",
            "Could not decode to UTF-8",
        ),
    ],
)
def test_an_unreadable_row(journal: Path, statement: str, command: str, fragment: str) -> None:
    sql(journal, statement)
    assert_one_error_line(cli(on(journal, command)), 1, fragment, streamed=command == "export")


def test_an_unexpected_error_is_one_line_too(
    journal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: _reader.JournalReader) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(_reader.JournalReader, "stats", broken)
    assert_one_error_line(
        cli(on(journal, "stats")), 1, "internal error: KeyError: 'surprise'", "--debug"
    )
    debug = cli(["--debug", *on(journal, "stats")])
    assert isinstance(debug.exception, KeyError)
