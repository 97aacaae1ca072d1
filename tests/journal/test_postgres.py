"""The PostgreSQL journal on a real server: what the shared conformance suite cannot say about
one backend (J8, J9, J11, J12): reopening, atomic batches, outside producers and their
notifications, migrations, and every kind of bad input as one typed error."""

from __future__ import annotations

import subprocess
import sys

import anyio
import psycopg
import pytest

import actorflow as af
from actorflow.journal import ActorRecord, Batch, Done, MessageRecord, PostgresJournal, StepRecord
from actorflow.journal._pg_outside import append_outside, cancel_outside
from actorflow.journal._pg_schema import MIGRATIONS

from .cutting_proxy import cutting_proxy
from .postgres_server import PostgresServer, ServerMissing, postgres_server

pytestmark = pytest.mark.anyio


def msg(i: int, recipient: str = "a") -> MessageRecord:
    return MessageRecord(id=f"m{i}", recipient=recipient, type="Add", body=bytes([i % 256]))


async def test_j12_appends_survive_reopening_and_stay_idempotent(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    backend = PostgresJournal(url)
    await backend.open()
    await backend.write(Batch(appends=[msg(1), msg(2)]))
    await backend.close()
    await backend.close()  # twice is safe
    again = PostgresJournal(url)
    await again.open()
    try:
        before = max(m.seq for m in await again.pending())
        duplicate, new = await again.write(Batch(appends=[msg(2), msg(3)]))
        assert duplicate is None
        assert new is not None
        assert new > before
        assert [m.id for m in await again.pending()] == ["m1", "m2", "m3"]
    finally:
        await again.close()


async def test_j12_a_failing_batch_commits_nothing(postgres: PostgresServer) -> None:
    backend = PostgresJournal(postgres.new_database())
    await backend.open()
    try:
        await backend.write(Batch(appends=[msg(1)]))
        bad = MessageRecord(id="m2", recipient="a", type="Add", body=None)  # type: ignore[arg-type]
        with pytest.raises(af.JournalError, match="body"):
            await backend.write(Batch(appends=[msg(3), bad], done=[Done("m1", "a", None, 1.0)]))
        assert [m.id for m in await backend.pending()] == ["m1"]  # neither m3 nor the done-mark
        (seq,) = await backend.write(Batch(appends=[msg(4)]))  # the writer carries on
        assert seq is not None
    finally:
        await backend.close()


async def test_j12_a_repeated_id_within_one_batch_is_appended_once(
    postgres: PostgresServer,
) -> None:
    backend = PostgresJournal(postgres.new_database())
    await backend.open()
    try:
        first, again = await backend.write(Batch(appends=[msg(1), msg(1)]))
        assert first is not None
        assert again is None
        assert [m.id for m in await backend.pending()] == ["m1"]
    finally:
        await backend.close()


async def test_j11_outside_appends_notify_the_system_and_their_notices_are_taken_once(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    backend = PostgresJournal(url)
    await backend.open()
    woken = [anyio.Event()]
    stop = backend.watch_notices(lambda: woken[-1].set())
    try:
        await backend.write(Batch(appends=[msg(1)]))
        # The listener wakes once when it starts listening; wait for that, then for the append.
        with anyio.fail_after(10):
            await woken[-1].wait()
        woken.append(anyio.Event())
        with psycopg.connect(url, autocommit=True) as conn:
            assert append_outside(conn, msg(2)) is not None
            assert append_outside(conn, msg(3)) is not None
            assert append_outside(conn, msg(3)) is None  # the same id: nothing written
        with anyio.fail_after(10):
            await woken[-1].wait()  # the NOTIFY after the producer's commit
        await backend.write(Batch(done=[Done("m3", "a", None, 1.0)]))
        taken = await backend.take_notices()
        assert [m.id for m in taken] == ["m2"]  # m3 was handled meanwhile
        assert await backend.take_notices() == []
    finally:
        stop()
        await backend.close()


async def changed() -> None:
    return None


@pytest.mark.parametrize("node", [None, "one"], ids=["outside", "node"])
async def test_j11_a1_a_take_cut_off_after_the_server_took_its_notices_still_returns_them(
    postgres: PostgresServer, node: str | None
) -> None:
    """The server takes (deletes) the notices, and the connection goes before its answer: the
    take, retried on a new connection, finds no notices left, and returns the pending
    messages they named all the same, in journal order (a retry that returned only what was
    noticed since let the cluster kill loop handle a relay before the one sent before it)."""
    url = postgres.new_database()
    async with cutting_proxy(postgres, url) as proxy:
        backend = PostgresJournal(proxy.url, node=node, lease=30.0)
        await backend.open()
        try:
            if node is not None:
                await backend.join(changed)  # the only node: it owns every shard
            with psycopg.connect(url, autocommit=True) as conn:
                assert append_outside(conn, msg(1)) is not None
                assert append_outside(conn, msg(2)) is not None
            proxy.cut_after(b"DELETE FROM notices")
            assert [m.id for m in await backend.take_notices()] == ["m1", "m2"]
            assert proxy.cuts == 1
            with psycopg.connect(url, autocommit=True) as conn:  # the cut take deleted them
                assert conn.execute("SELECT count(*) FROM notices").fetchone() == (0,)
                assert append_outside(conn, msg(3)) is not None
            assert [m.id for m in await backend.take_notices()] == ["m3"]
            assert await backend.take_notices() == []
        finally:
            await backend.close()


async def test_j11_a1_notices_taken_by_a_take_that_failed_come_with_the_next_one(
    postgres: PostgresServer,
) -> None:
    """The server takes the notices, the link goes down before their answer arrives and stays
    down past the reconnect timeout, so the take fails: the next take, once the link is back,
    returns them, in journal order with the new ones."""
    url = postgres.new_database()
    async with cutting_proxy(postgres, url) as proxy:
        backend = PostgresJournal(proxy.url, reconnect_timeout=1.0, connect_timeout=1.0)
        await backend.open()
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                assert append_outside(conn, msg(1)) is not None
                assert append_outside(conn, msg(2)) is not None
            proxy.cut_after(b"DELETE FROM notices", down=True)
            with pytest.raises(af.JournalUnavailable):
                await backend.take_notices()
            assert (proxy.cuts, proxy.refused > 0) == (1, True)  # it was retried, in vain
            proxy.up()
            with psycopg.connect(url, autocommit=True) as conn:  # their notices are gone
                assert conn.execute("SELECT count(*) FROM notices").fetchone() == (0,)
                assert append_outside(conn, msg(3)) is not None
            assert [m.id for m in await backend.take_notices()] == ["m1", "m2", "m3"]
            assert await backend.take_notices() == []  # and then only what is noticed again
        finally:
            await backend.close()


async def test_j8_a_schema_1_journal_is_migrated_and_keeps_its_rows(
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in MIGRATIONS[1]:
            conn.execute(statement)
        conn.execute("INSERT INTO actorflow_meta VALUES ('schema_version', '1')")
        conn.execute(
            "INSERT INTO messages (id, recipient, type, body, created_at)"
            " VALUES ('old-1', 'a', 'Add', '\\x01', 1.0)"
        )
    backend = PostgresJournal(url)
    await backend.open()
    try:
        assert await backend.schema_version() == af.journal.SCHEMA_VERSION == 4
        (old,) = await backend.pending()
        assert (old.id, old.body, old.trace) == ("old-1", b"\x01", None)
        await backend.write(Batch(steps=[StepRecord("old-1", "s", b"x")]))
        assert await backend.steps("old-1") == {"s": b"x"}
    finally:
        await backend.close()


async def test_j8_r2_a_schema_2_journal_is_migrated_its_turns_unrecorded_and_pins_work(
    postgres: PostgresServer,
) -> None:
    """Schema 3 (R1, R2) on PostgreSQL: a message handled before it has no recorded turn, a
    step no digest and position 0; new turns, steps and pins are stored as on SQLite."""
    url = postgres.new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        for version in (1, 2):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
        conn.execute("INSERT INTO actorflow_meta VALUES ('schema_version', '2')")
        conn.execute(
            "INSERT INTO messages (id, recipient, type, body, created_at, conversation, status,"
            " done_at) VALUES ('old-1', 'a', 'Add', '\\x01', 1.0, 'c', 'done', 2.0)"
        )
        conn.execute(
            "INSERT INTO steps (message_id, step, result, created_at)"
            " VALUES ('old-1', 'llm', '\\x02', 1.5)"
        )
    backend = PostgresJournal(url)
    await backend.open()
    try:
        assert await backend.schema_version() == 4
        (old,) = await backend.turns("c")
        assert (old.message_id, old.recorded, old.before, old.after) == ("old-1", False, None, None)
        assert [(st.step, st.result, st.args, st.position) for st in old.steps] == [
            ("llm", b"\x02", None, 0)
        ]
        await backend.write(
            Batch(
                actors=[ActorRecord("a", "k", b"\x90")],
                appends=[MessageRecord("new-1", "a", "Add", b"\x03", conversation="c")],
            )
        )
        await backend.write(
            Batch(
                steps=[StepRecord("new-1", "llm", b"r", args=b"d", position=1)],
                done=[Done("new-1", "a", b"s1", 3.0, before=b"s0", reply=b"r")],
            )
        )
        _, new = await backend.turns("c")
        assert (new.before, new.after, new.reply, new.recorded) == (b"s0", b"s1", b"r", True)
        assert [(st.args, st.position) for st in new.steps] == [(b"d", 1)]
        assert await backend.pin("c") is True
        compacted = await backend.compact(1e12)
        assert (compacted.messages, compacted.steps) == (0, 0)
        assert await backend.pinned() == ["c"]
        # Schema 4: the migrated status check takes 'cancelled'.
        await backend.write(Batch(appends=[MessageRecord("p-1", "a", "Add", b"\x04")]))
        with psycopg.connect(url, autocommit=True) as conn:
            assert cancel_outside(conn, ["p-1", "old-1"], by="op", at=5.0) == ["p-1"]
        cancelled = await backend.message("p-1")
        assert cancelled is not None
        assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "op")
        assert [m.id for m in await backend.take_notices()] == ["p-1"]
    finally:
        await backend.close()


# -- bad input: one typed error each (J9) ------------------------------------------------------


async def _refused(url: str, error: type[af.JournalError], match: str) -> None:
    backend = PostgresJournal(url, reconnect_timeout=0.5, connect_timeout=2)
    with pytest.raises(error, match=match) as raised:
        await backend.open()
    assert "\n" not in str(raised.value)
    await backend.close()


async def test_j9_an_unreachable_server_is_journal_unavailable(postgres: PostgresServer) -> None:
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        row = conn.execute("SELECT 1").fetchone()
    assert row == (1,)
    import socket

    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await _refused(
        f"postgresql://postgres@127.0.0.1:{port}/postgres",
        af.JournalUnavailable,
        "is the PostgreSQL server running",
    )


async def test_j9_a_wrong_password_is_refused_with_one_error(postgres: PostgresServer) -> None:
    dbname = postgres.create_database()
    role = f"writer_{dbname}"
    postgres.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'right'")
    postgres.execute(f"GRANT ALL ON DATABASE {dbname} TO {role}")
    postgres.execute(f"GRANT ALL ON SCHEMA public TO {role}", dbname)
    await _refused(
        postgres.tcp_url(dbname, role, "wrong"), af.JournalError, "password authentication"
    )
    # The right one works.
    backend = PostgresJournal(postgres.tcp_url(dbname, role, "right"))
    await backend.open()
    try:
        assert "right" not in repr(backend)  # the password is never shown
        assert await backend.schema_version() == af.journal.SCHEMA_VERSION
    finally:
        await backend.close()


async def test_j9_an_unknown_role_or_database_is_refused(postgres: PostgresServer) -> None:
    await _refused(postgres.url(user="nobody"), af.JournalError, 'role "nobody" does not exist')
    await _refused(postgres.url("no_such_db"), af.JournalError, "create the database first")


async def test_j8_a_database_of_another_application_is_refused(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    await _refused(url, af.JournalSchemaError, r"not an actorflow journal \(invoices\)")
    with psycopg.connect(url, autocommit=True) as conn:  # nothing was added to it
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    assert tables == [("invoices",)]


async def test_j8_a_journal_of_a_newer_schema_is_refused(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    backend = PostgresJournal(url)
    await backend.open()
    await backend.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE actorflow_meta SET value = '99' WHERE key = 'schema_version'")
    await _refused(url, af.JournalSchemaError, "newer actorflow.*schema 99")


async def test_j9_a_url_that_is_not_one_is_refused() -> None:
    with pytest.raises(af.JournalError, match="not a PostgreSQL connection string"):
        PostgresJournal("postgresql://[::1")


def test_without_psycopg_actorflow_imports_and_the_journal_says_what_to_install() -> None:
    script = (
        "import sys; sys.modules['psycopg'] = None\n"
        "import actorflow as af\n"
        "try:\n"
        "    af.ActorSystem(journal='postgresql://localhost/x')\n"
        "except af.JournalError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=30
    )
    assert "pip install 'actorflow[postgres]'" in done.stdout


def test_without_the_server_binaries_the_fixture_says_how_to_install_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # no pg_config to be found
    with pytest.raises(ServerMissing, match=r"apt-get install postgresql"), postgres_server():
        raise AssertionError("a server started without its binaries")
