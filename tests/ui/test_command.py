"""``actorflow ui`` as a command: a real server process, and the one-line refusals before
anything is served (P3, U2)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from ..cli.support import assert_one_error_line, cli
from .support import shown, status_of

TOKEN = "a-token-for-the-real-server-42"


class Served:
    """An ``actorflow ui`` process and the address it printed."""

    def __init__(self, process: subprocess.Popen[str], line: str) -> None:
        self.process = process
        self.line = line
        self.url = line.split(" at ", 1)[1].split(" ", 1)[0]
        self.base = self.url.split("?", 1)[0].rstrip("/")


@pytest.fixture
def serve() -> Iterator[object]:
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> Served:
        process = subprocess.Popen(
            [sys.executable, "-m", "actorflow", "ui", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "ACTORFLOW_JOURNAL": ""},
        )
        started.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once the socket listens
        assert line.startswith("actorflow ui: serving "), (line, process.stderr)
        return Served(process, line.strip())

    yield start
    for process in started:
        process.terminate()
        process.communicate(timeout=20)


def test_a_real_server_serves_the_journal_read_only(serve: object, journal: Path) -> None:
    served = serve("--journal", str(journal))  # type: ignore[operator]
    assert "(read-only)" in served.line
    assert served.base.startswith("http://127.0.0.1:")
    with httpx2.Client(base_url=served.base) as client:
        stats = client.get("/stats")
        assert stats.status_code == 200
        assert "dead letters 1" in shown(stats.text)
        write = client.post("/actions/requeue", data={"message": "m-04", "form_secret": "x"})
        assert write.status_code == 403
    assert status_of(journal, "m-04") == "dead"


def test_ctrl_c_stops_the_server_quietly(serve: object, journal: Path) -> None:
    served = serve("--journal", str(journal))  # type: ignore[operator]
    served.process.send_signal(signal.SIGINT)
    out, err = served.process.communicate(timeout=20)
    assert served.process.returncode == 0, err
    assert out == "actorflow ui: stopped\n"
    assert err == ""


def test_sigterm_stops_the_server_as_the_signal_does(serve: object, journal: Path) -> None:
    """uvicorn finishes the requests in flight, then the process ends by the signal."""
    served = serve("--journal", str(journal))  # type: ignore[operator]
    served.process.terminate()
    _, err = served.process.communicate(timeout=20)
    assert served.process.returncode == -signal.SIGTERM
    assert err == ""


def test_a_non_loopback_server_needs_its_token(serve: object, journal: Path) -> None:
    served = serve("--journal", str(journal), "--host", "0.0.0.0", "--token", TOKEN)  # type: ignore[operator]
    assert served.url.endswith(f"?token={TOKEN}")
    port = served.base.rsplit(":", 1)[1]
    with httpx2.Client(base_url=f"http://127.0.0.1:{port}") as client:
        assert client.get("/stats").status_code == 401
        assert client.get("/stats", headers={"Authorization": "Bearer nope"}).status_code == 401
        allowed = client.get("/stats", headers={"Authorization": f"Bearer {TOKEN}"})
        assert allowed.status_code == 200


def test_a_bad_journal_path_is_one_line_before_anything_is_served(tmp_path: Path) -> None:
    result = cli(["ui", "--journal", str(tmp_path / "missing.db")])
    assert_one_error_line(result, 1, "no journal at", "missing.db")
    not_a_journal = tmp_path / "notes.txt"
    not_a_journal.write_text("hello, this is not SQLite at all, but long enough to read")
    assert_one_error_line(cli(["ui", "--journal", str(not_a_journal)]), 1, "not a SQLite")


def test_a_non_loopback_host_without_a_token_is_refused(journal: Path) -> None:
    result = cli(["ui", "--journal", str(journal), "--host", "0.0.0.0"])
    assert_one_error_line(result, 2, "not a loopback address", "--token")


def test_a_short_token_is_refused(journal: Path) -> None:
    result = cli(["ui", "--journal", str(journal), "--token", "short"])
    assert_one_error_line(result, 2, "at least 16 characters")


def test_a_taken_port_is_one_line(journal: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = cli(["ui", "--journal", str(journal), "--port", str(port)])
    assert_one_error_line(result, 1, f"cannot listen on 127.0.0.1:{port}")


def test_without_the_ui_extra_the_error_names_it(journal: Path) -> None:
    hide = (
        "import sys; sys.modules['starlette'] = None; sys.modules['uvicorn'] = None;"
        " from actorflow.cli import main; main(sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", hide, "ui", "--journal", str(journal)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert "pip install 'actorflow[ui]'" in done.stderr
