"""Every `actorflow journal` command, `actorflow replay` and `actorflow ui` on a PostgreSQL
journal (C1, U1): the same output as on a SQLite journal holding the same history.

The example journals (`support.build`, `support.build_steps`: fixed ids and times; their
SQLite output is the golden files') are copied row by row into PostgreSQL
(`postgres_copy`), and each command runs on both; the outputs must be equal once the
journal's name and its size (what differs by engine) are normalised. The write commands
change the same rows on both, and bad input is one line, exit 1, never the password.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import anyio
import msgspec
import psycopg
import pytest

from actorflow import JournalError
from actorflow.cli._output import WIDTH_VARIABLE
from actorflow.journal import PostgresJournal, journal_name
from actorflow.journal._reader import open_source

from ..journal.postgres_server import PostgresServer
from .postgres_support import copy_to_postgres
from .support import assert_one_error_line, cli, copy_journal, long_ids
from .test_golden import CASES, LONG_ID_CASES, STEPS_CASES

READS = {
    **CASES,
    "state": ["state", "alice"],
    "state-carol": ["state", "carol"],
    "show-full": ["show", "m-04", "--full"],
    "messages-dead": ["messages", "--status", "dead"],
    "messages-actor": ["messages", "--actor", "bob"],
    "messages-type": ["messages", "--type", "cli.Note", "--limit", "2"],
    "messages-conversation": ["messages", "--conversation", "m-02"],
    "messages-since": ["messages", "--since", "2025-01-01T00:03:00Z"],
    "messages-until": ["messages", "--until", "2025-01-01T00:03:00Z"],
    "conversations-pending": ["conversations", "--status", "pending"],
    "conversations-done": ["conversations", "--status", "done"],
    "conversations-actor": ["conversations", "--actor", "bob"],
    "conversations-since": ["conversations", "--since", "2025-01-01T00:02:00Z", "--limit", "2"],
    "tail-limit": ["tail", "--limit", "3"],
    "steps-none": ["steps", "m-01"],
    "timers-none": ["timers"],
    "export": ["export"],
    "requeue-one-dry-run": ["requeue", "m-04", "--dry-run"],
    "requeue-actor-dry-run": ["requeue", "--actor", "alice", "--dry-run"],
    "cancel-message-dry-run": ["cancel", "--message", "m-06", "--dry-run"],
    "compact-dry-run": ["compact", "--before", "2025-01-01T00:02:30Z", "--dry-run"],
}
"""Commands on the example journal that change nothing."""

STEPS_READS = {
    **STEPS_CASES,
    "steps-message": ["steps", "s-01"],
    "steps-conversation-full": ["steps", "--conversation", "s-01", "--full"],
    "conversation": ["conversation", "s-01"],
    "export": ["export"],
    "cancel-timer-dry-run": ["cancel", "--message", "t-01", "--dry-run"],
    "compact-dry-run": ["compact", "--before", "2030-01-01T00:00:00Z", "--dry-run"],
}
"""Commands on the journal with recorded steps and a pending timer."""

WRITES = {
    "requeue-one": ["requeue", "m-04"],
    "requeue-all": ["requeue", "--all", "--json"],
    "cancel-conversation": ["cancel", "m-05", "--by", "ops"],
    "cancel-message-json": ["cancel", "--message", "m-06", "--by", "ops", "--json"],
    "compact-json": ["compact", "--before", "2025-01-01T00:02:30Z", "--json"],
    "pin": ["pin", "m-02"],
    "unpin": ["unpin", "m-02"],
}
"""Commands that write; after each, the journal's export must be the same on both."""


def normalised(text: str, journal: str) -> str:
    """`text` with what differs by engine replaced: the journal's name, its size and times
    of writes made now (cancels)."""
    text = text.replace(journal, "<journal>")
    text = re.sub(r"^(file|database) +.*$", "<where> <journal>", text, flags=re.MULTILINE)
    text = re.sub(r"^size( +).*$", r"size\1<size>", text, flags=re.MULTILINE)
    text = re.sub(r'"(size_bytes|wal_bytes)": *(\d+|\{[^}]*\})', r'"\1": 0', text)
    text = re.sub(r'"file": *"[^"]*"', '"file": "<journal>"', text)
    text = re.sub(r'"cancelled_at": *"[^"]*"', '"cancelled_at": "<now>"', text)
    return re.sub(r'"at": *"[^"]*"', '"at": "<now>"', text)


def run(journal: str, args: list[str], width: int = 200) -> tuple[int, str, str]:
    """``actorflow journal ARGS --journal JOURNAL``: exit code, stdout and stderr, normalised."""
    result = cli(["journal", *args, "--journal", journal], env={WIDTH_VARIABLE: str(width)})
    shown = journal_name(journal)
    return (
        result.exit_code,
        normalised(result.stdout, shown),
        normalised(result.stderr, shown),
    )


@pytest.fixture(scope="module")
def both(built_journal: Path, postgres: PostgresServer) -> tuple[str, str]:
    """The example journal as a SQLite file and as a PostgreSQL journal (never written)."""
    return str(built_journal), copy_to_postgres(built_journal, postgres.new_database())


@pytest.fixture(scope="module")
def both_steps(built_steps_journal: Path, postgres: PostgresServer) -> tuple[str, str]:
    """The journal with steps and a timer, as a SQLite file and as a PostgreSQL journal."""
    return str(built_steps_journal), copy_to_postgres(built_steps_journal, postgres.new_database())


def assert_same(both: tuple[str, str], args: list[str], width: int = 200) -> str:
    lite, pg = both
    on_sqlite = run(lite, args, width)
    on_postgres = run(pg, args, width)
    assert on_sqlite[0] == 0, on_sqlite
    assert on_postgres == on_sqlite
    return on_postgres[1]


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("case", list(READS))
def test_c1_each_reading_command_prints_the_same_on_postgres(
    both: tuple[str, str], case: str, width: int
) -> None:
    assert_same(both, READS[case], width)
    if "--json" not in READS[case]:
        assert_same(both, [*READS[case], "--json"], width)


@pytest.mark.parametrize("case", list(STEPS_READS))
def test_c1_steps_and_timers_print_the_same_on_postgres(
    both_steps: tuple[str, str], case: str
) -> None:
    assert_same(both_steps, STEPS_READS[case], 80)
    assert_same(both_steps, [*STEPS_READS[case], "--json"])


def test_c1_runtime_ids_print_the_same_on_postgres(
    built_journal: Path, tmp_path: Path, postgres: PostgresServer
) -> None:
    lite = copy_journal(built_journal, tmp_path / "long.db")
    long_ids(lite)
    pair = (str(lite), copy_to_postgres(lite, postgres.new_database()))
    for args in LONG_ID_CASES.values():
        for width in (80, 200):
            assert_same(pair, args, width)


def json_lines(args: list[str], journal: str) -> list[Any]:
    result = cli(["journal", *args, "--json", "--journal", journal])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_c1_stats_on_postgres_name_the_database_and_its_size(both: tuple[str, str]) -> None:
    _, pg = both
    raw = cli(["journal", "stats", "--journal", pg]).stdout
    assert raw.startswith(f"database        {journal_name(pg)}\n")
    assert "bytes (its tables and indexes)" in raw
    (stats,) = json_lines(["stats"], pg)
    assert stats["file"] == journal_name(pg)
    assert stats["size_bytes"] > 0
    assert stats["wal_bytes"] == 0


@pytest.mark.parametrize("case", list(WRITES))
def test_c1_each_writing_command_changes_the_same_on_postgres(
    case: str, built_journal: Path, tmp_path: Path, postgres: PostgresServer
) -> None:
    """The write commands print the same and leave the same journal behind (its export)."""
    lite = copy_journal(built_journal, tmp_path / "w.db")
    pg = copy_to_postgres(lite, postgres.new_database())
    args = WRITES[case]
    if case == "unpin":
        for journal in (str(lite), pg):
            assert cli(["journal", "pin", "m-02", "--journal", journal]).exit_code == 0
    pair = (str(lite), pg)
    assert_same(pair, args)
    assert_same(pair, ["export"])
    assert_same(pair, ["stats", "--json"])


def test_c1_compact_removes_what_it_counted_and_keeps_a_pinned_conversation(
    built_journal: Path, postgres: PostgresServer
) -> None:
    pg = copy_to_postgres(built_journal, postgres.new_database())
    assert cli(["journal", "pin", "m-02", "--journal", pg]).exit_code == 0
    before = ["compact", "--before", "2030-01-01T00:00:00Z"]
    (would,) = json_lines([*before, "--dry-run"], pg)
    (done,) = json_lines(before, pg)
    assert (would["messages"], done["messages"]) == (1, 1)  # m-01; m-02 and m-03 are pinned
    assert [m["id"] for m in json_lines(["messages"], pg)] == [
        "m-06",
        "m-05",
        "m-04",
        "m-03",
        "m-02",
    ]
    text = cli(["journal", *before, "--journal", pg]).stdout
    assert text.startswith("removed 0 done messages and 0 step results")
    assert "(its tables and indexes)" in text


def test_c1_a_read_never_writes_to_the_database(both: tuple[str, str]) -> None:
    """Reads (dry runs too) leave the journal as it was."""
    _, pg = both
    count = "SELECT (SELECT count(*) FROM messages), (SELECT max(seq) FROM messages),"
    count += " (SELECT count(*) FROM notices), (SELECT count(*) FROM pins)"
    with psycopg.connect(pg, autocommit=True) as conn:
        before = conn.execute(count).fetchone()
        status = conn.execute("SELECT id, status FROM messages ORDER BY seq").fetchall()
    for args in READS.values():
        assert run(pg, args)[0] == 0
    with psycopg.connect(pg, autocommit=True) as conn:
        assert conn.execute(count).fetchone() == before
        assert conn.execute("SELECT id, status FROM messages ORDER BY seq").fetchall() == status


# -- bad input (P3) ----------------------------------------------------------------------------

EVERY_COMMAND = [
    ["journal", "stats"],
    ["journal", "actors"],
    ["journal", "messages"],
    ["journal", "dead"],
    ["journal", "show", "m1"],
    ["journal", "state", "a"],
    ["journal", "tail"],
    ["journal", "tail", "--follow"],
    ["journal", "conversation", "c1"],
    ["journal", "conversations"],
    ["journal", "steps", "m1"],
    ["journal", "timers"],
    ["journal", "requeue", "m1"],
    ["journal", "requeue", "--all"],
    ["journal", "requeue", "--all", "--dry-run"],
    ["journal", "cancel", "c1"],
    ["journal", "cancel", "--message", "m1"],
    ["journal", "compact", "--before", "1d"],
    ["journal", "compact", "--before", "1d", "--dry-run"],
    ["journal", "pin", "c1"],
    ["journal", "unpin", "c1"],
    ["journal", "export"],
    ["journal", "export", "--conversation", "c1", "--bundle", "c1.bundle"],
    ["replay", "c1"],
    ["ui"],
]
"""Every command that reads or writes a journal (the journal group's, replay and ui)."""

SECRET = "s3cret-Pa55"
"""The password in the URLs below: it must never be printed."""


@pytest.fixture(scope="module")
def places(postgres: PostgresServer) -> dict[str, str]:
    """URLs of what is not a journal this actorflow reads, each a database of its own."""
    dbname = postgres.create_database()
    role = f"reader_{dbname}"
    postgres.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'")
    postgres.execute(f"GRANT ALL ON DATABASE {dbname} TO {role}")
    postgres.execute(f"GRANT ALL ON SCHEMA public TO {role}", dbname)
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    foreign = postgres.new_database()
    with psycopg.connect(foreign, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    newer = postgres.new_database()
    with psycopg.connect(newer, autocommit=True) as conn:
        conn.execute("CREATE TABLE actorflow_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO actorflow_meta VALUES ('schema_version', '7')")
    return {
        "unreachable": f"postgresql://someone:{SECRET}@127.0.0.1:{port}/journal",
        "wrong password": postgres.tcp_url(dbname, role, SECRET + "-not"),
        "no journal": postgres.new_database(),
        "another application": foreign,
        "newer schema": newer,
    }


EXPECTED = {
    "unreachable": "is the PostgreSQL server running",
    "wrong password": "check the user and password in the journal URL",
    "no journal": "holds no actorflow journal",
    "another application": "not an actorflow journal (invoices)",
    "newer schema": "newer actorflow (journal schema 7",
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("place", list(EXPECTED))
def test_c1_p3_bad_input_is_one_line_on_every_command_and_never_the_password(
    place: str, places: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However it is given (--journal, the group's, $ACTORFLOW_JOURNAL), exit 1 with one line
    saying what is wrong; the database is left as it was; a bundle is not written."""
    monkeypatch.chdir(tmp_path)
    url = places[place]
    for args in EVERY_COMMAND:
        ways = [
            cli([*args, "--journal", url]),
            cli(args, env={"ACTORFLOW_JOURNAL": url}),
        ]
        if args[0] == "journal":
            ways.append(cli(["journal", "--journal", url, *args[1:]]))
        for result in ways:
            line = assert_one_error_line(result, 1, EXPECTED[place])
            assert SECRET not in line, line
    assert list(tmp_path.iterdir()) == []
    if place in ("no journal", "another application"):
        with psycopg.connect(url, autocommit=True) as conn:
            tables = conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            ).fetchall()
        assert tables == ([] if place == "no journal" else [("invoices",)])


def test_c1_a_password_in_the_url_is_never_printed(postgres: PostgresServer) -> None:
    dbname = postgres.create_database()
    role = f"owner_{dbname}"
    postgres.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'")
    postgres.execute(f"GRANT ALL ON DATABASE {dbname} TO {role}")
    postgres.execute(f"GRANT ALL ON SCHEMA public TO {role}", dbname)
    url = postgres.tcp_url(dbname, role, SECRET)
    anyio.run(_create, url)
    for args in (["stats"], ["stats", "--json"], ["show", "nope"], ["state", "nobody"]):
        result = cli(["journal", *args, "--journal", url])
        assert SECRET not in result.output
        assert dbname in result.output


async def _create(url: str) -> None:
    backend = PostgresJournal(url)
    await backend.open()
    await backend.close()


# -- replay (R1, R2) ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer) -> tuple[str, str]:
    """The research team's recorded run, as a SQLite file and as a PostgreSQL journal."""
    from examples.evals.record import record_team

    from actorflow.journal import SQLiteJournal

    path = tmp_path_factory.mktemp("team") / "team.db"
    anyio.run(record_team, SQLiteJournal(path))
    return str(path), copy_to_postgres(path, postgres.new_database())


def replayed(journal: str, *args: str) -> tuple[int, str, str]:
    result = cli(["replay", "task-1", "--journal", journal, *args])
    shown = journal_name(journal)
    return result.exit_code, normalised(result.stdout, shown), normalised(result.stderr, shown)


@pytest.mark.parametrize(
    "args", [[], ["--json"], ["--strict"], ["--fork-at", "llm"], ["--live", "llm,plan"]]
)
def test_c1_r1_replay_from_postgres_is_the_same(team: tuple[str, str], args: list[str]) -> None:
    """The same report and exit status (a fork at a step the code asks about exits 1)."""
    lite, pg = team
    on_sqlite = replayed(lite, *args)
    assert on_sqlite[1]
    assert replayed(pg, *args) == on_sqlite


def test_c1_r2_a_bundle_exported_from_postgres_is_the_same(
    team: tuple[str, str], tmp_path: Path
) -> None:
    written = []
    for name, journal in zip(("lite", "pg"), team, strict=True):
        bundle = tmp_path / f"{name}.bundle"
        args = ["export", "--conversation", "task-1", "--bundle", str(bundle)]
        result = cli(["journal", *args, "--journal", journal])
        assert result.exit_code == 0, result.output
        contents = msgspec.msgpack.decode(bundle.read_bytes())
        del contents["created_at"]  # when the bundle was written
        written.append(contents)
        replay = cli(["replay", "--bundle", str(bundle)])
        assert replay.exit_code == 0, replay.output
    assert written[0] == written[1]


def test_c1_r2_pin_compact_and_replay_on_postgres(tmp_path: Path, postgres: PostgresServer) -> None:
    from examples.evals.record import record_team

    url = postgres.new_database()
    anyio.run(record_team, PostgresJournal(url))
    journal = ["--journal", url]
    assert cli(["journal", "pin", "task-1", *journal]).stdout == (
        "pinned conversation task-1: compaction keeps it whole\n"
    )
    assert cli(["journal", "compact", "--before", "0s", *journal]).exit_code == 0
    assert cli(["replay", "task-1", *journal]).exit_code == 0
    assert cli(["journal", "unpin", "task-1", *journal]).exit_code == 0
    assert cli(["journal", "compact", "--before", "0s", *journal]).exit_code == 0
    assert_one_error_line(cli(["replay", "task-1", *journal]), 1, "compacted")
    assert_one_error_line(cli(["journal", "pin", "zzz", *journal]), 1, "no conversation 'zzz'")


def test_c1_the_read_model_cannot_write_on_postgres(both: tuple[str, str]) -> None:
    """Its connection's transactions are read-only on the server, as SQLite's mode=ro is."""
    _, pg = both
    source = open_source(pg)
    try:
        for statement in ("DELETE FROM messages", "UPDATE actors SET handled = 0"):
            with pytest.raises(JournalError, match="read-only transaction"):
                source.rows(statement, ())
        with source.snapshot(), pytest.raises(JournalError, match="read-only transaction"):
            source.rows("INSERT INTO pins (conversation, pinned_at) VALUES (?, ?)", ("m-01", 0.0))
    finally:
        source.close()
    with psycopg.connect(pg, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (6,)


def test_c1_the_url_may_come_from_the_group_or_the_environment(both: tuple[str, str]) -> None:
    _, pg = both
    given = cli(["journal", "messages", "--journal", pg])
    assert given.exit_code == 0, given.output
    assert cli(["journal", "--journal", pg, "messages"]).stdout == given.stdout
    assert cli(["journal", "messages"], env={"ACTORFLOW_JOURNAL": pg}).stdout == given.stdout


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://someone:{SECRET}@[unclosed/journal",
        f"postgresql://someone@db.invalid/journal?password={SECRET}&nonsense=1",
    ],
)
def test_c1_p3_a_url_libpq_cannot_read_is_one_line_without_its_password(url: str) -> None:
    """libpq's own message quotes the whole string: it is never passed on."""
    for args in [*EVERY_COMMAND, ["send", "a", "T", "{}"], ["run", "tests.apps.served:main"]]:
        line = assert_one_error_line(
            cli([*args, "--journal", url]), 1, "is not a PostgreSQL connection string"
        )
        assert SECRET not in line, line
