"""The web UI on a PostgreSQL journal (C1, U1, U2): every page the same as on a SQLite journal
holding the same history, its writes (requeue, cancel) on the database, and ``actorflow ui
--journal postgresql://...`` as a real server that never shows the URL's password."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import psycopg
import pytest
from starlette.testclient import TestClient

from actorflow.journal import journal_name
from actorflow.ui import UiSettings

from ..cli.postgres_support import copy_to_postgres
from ..cli.support import copy_journal
from ..journal.postgres_server import PostgresServer
from .conftest import client_for
from .support import form_secret, shown

PAGES = [
    "/",
    "/?status=pending",
    "/?actor=bob",
    "/api/conversations",
    "/actors",
    "/actors/alice",
    "/actors/carol",
    "/conversations/m-02",
    "/conversations/m-03",
    "/conversations/m-02/timeline",
    "/messages/m-02",
    "/messages/m-03",
    "/messages/m-04",
    "/dead",
    "/timers",
    "/stats",
    "/messages/nope",
    "/conversations/nope",
    "/actors/nobody",
]

SECRET = "a-form-secret-shared-by-both"


@pytest.fixture
def both(journal: Path, postgres: PostgresServer) -> tuple[Path, str]:
    """The example journal as a SQLite file and as a PostgreSQL journal (a copy each)."""
    return journal, copy_to_postgres(journal, postgres.new_database())


def page_of(journal: Path | str, url: str, *, allow_writes: bool = False) -> tuple[int, str]:
    settings = UiSettings(journal=journal, allow_writes=allow_writes, form_secret=SECRET)
    with client_for(settings) as client:
        answer = client.get(url)
    text = answer.text
    for name in (settings.journal_location, settings.journal_name):
        text = text.replace(name, "<journal>")
    text = re.sub(r"[\d,]+ bytes \([^)]*\)", "<size>", text)  # the stats page's size
    return answer.status_code, text.replace("<dt>database</dt>", "<dt>file</dt>")


@pytest.mark.parametrize("url", PAGES)
def test_c1_every_page_is_the_same_on_postgres(both: tuple[Path, str], url: str) -> None:
    lite, pg = both
    on_sqlite = page_of(lite, url)
    assert on_sqlite[0] in (200, 404)
    assert page_of(pg, url) == on_sqlite
    assert page_of(pg, url, allow_writes=True) == page_of(lite, url, allow_writes=True)


@pytest.fixture
def writable(both: tuple[Path, str]) -> Iterator[TestClient]:
    with client_for(UiSettings(journal=both[1], allow_writes=True)) as c:
        yield c


def status_of(url: str, message_id: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT status FROM messages WHERE id = %s", (message_id,)).fetchone()
    assert row is not None
    return str(row[0])


def test_c1_a_requeue_and_a_cancel_from_the_ui_write_to_postgres(
    writable: TestClient, both: tuple[Path, str]
) -> None:
    pg = both[1]
    secret = form_secret(writable.get("/dead").text)
    answer = writable.post("/actions/requeue", data={"message": "m-04", "form_secret": secret})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/messages/m-04?done=requeued"
    assert status_of(pg, "m-04") == "pending"
    again = writable.post("/actions/requeue", data={"message": "m-04", "form_secret": secret})
    assert again.status_code == 409
    assert "is pending, not dead" in shown(again.text)
    cancel = writable.post("/actions/cancel", data={"conversation": "m-06", "form_secret": secret})
    assert cancel.status_code == 303, cancel.text
    assert status_of(pg, "m-06") == "cancelled"


def test_c1_a_read_only_ui_on_postgres_changes_nothing(both: tuple[Path, str]) -> None:
    pg = both[1]
    with client_for(UiSettings(journal=pg)) as client:
        secret = client.app.state.settings.form_secret  # type: ignore[attr-defined]
        answer = client.post("/actions/requeue", data={"message": "m-04", "form_secret": secret})
    assert answer.status_code == 403
    assert status_of(pg, "m-04") == "dead"


@pytest.mark.timeout(60)
def test_c1_u2_a_real_server_on_postgres_never_shows_the_password(
    postgres: PostgresServer, built_journal: Path, tmp_path: Path
) -> None:
    dbname = postgres.create_database()
    role = f"viewer_{dbname}"
    password = "vi3wer-Secret"
    postgres.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    postgres.execute(f"GRANT ALL ON DATABASE {dbname} TO {role}")
    postgres.execute(f"GRANT ALL ON SCHEMA public TO {role}", dbname)
    url = copy_to_postgres(
        copy_journal(built_journal, tmp_path / "a.db"), postgres.tcp_url(dbname, role, password)
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "actorflow", "ui", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ACTORFLOW_JOURNAL": url},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once the socket listens
        assert line.startswith(f"actorflow ui: serving {journal_name(url)} at "), line
        assert password not in line
        base = line.split(" at ", 1)[1].split(" ", 1)[0].rstrip("/")
        with httpx2.Client(base_url=base) as client:
            stats = client.get("/stats")
            conversations = client.get("/api/conversations")
        assert stats.status_code == 200
        assert "dead letters 1" in shown(stats.text)
        assert password not in stats.text
        assert dbname in stats.text
        assert conversations.status_code == 200
        assert [c["id"] for c in json.loads(conversations.text)["conversations"]][:2] == [
            "m-06",
            "m-05",
        ]
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert password not in err
