"""A real, throwaway PostgreSQL server for the tests and the benchmarks (J12).

`pg_config --bindir` names the directory of ``initdb`` and ``pg_ctl``. Both refuse to run as
root, so when the tests run as root the server runs as the ``postgres`` user, in a temporary
directory made over to it. It listens on a Unix socket in that directory and on 127.0.0.1 (a
free port), with ``fsync=on``. Local socket connections are trusted; over TCP the
``postgres`` superuser is trusted too, and every other role needs its password (SCRAM).
``postgres_server(listen=..., trusted=...)`` adds addresses to listen on and networks whose
connections are trusted (the cluster kill loop's links to its nodes' network namespaces).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg

__all__ = ["INSTALL_HINT", "PostgresServer", "ServerMissing", "postgres_server"]

INSTALL_HINT = (
    "PostgreSQL's server binaries are missing (initdb, pg_ctl): install them with"
    " `apt-get install postgresql` (or your system's package)"
)


class ServerMissing(RuntimeError):
    """Raised when PostgreSQL's binaries cannot be found."""


def _bindir() -> Path:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        raise ServerMissing(INSTALL_HINT)
    found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
    bindir = Path(found.stdout.strip())
    if found.returncode != 0 or not (bindir / "initdb").exists():
        raise ServerMissing(INSTALL_HINT)
    return bindir


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One running server: its data directory, socket directory and port."""

    def __init__(
        self,
        root: Path,
        bindir: Path,
        port: int,
        *,
        synchronous_commit: bool,
        listen: Sequence[str] = (),
        trusted: Sequence[str] = (),
    ) -> None:
        self.root = root
        self.listen = ["127.0.0.1", *listen]
        self.trusted = list(trusted)
        self.data = root / "data"
        self.bindir = bindir
        self.port = port
        self.synchronous_commit = synchronous_commit
        self._shared = ""
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self._as_postgres, *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")

    def initdb(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-instructions",
        )
        hba = self.data / "pg_hba.conf"
        hba.write_text(
            "local all all trust\n"
            "host all postgres 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
            + "".join(f"host all all {network} trust\n" for network in self.trusted)
        )
        options = {
            "listen_addresses": f"'{','.join(self.listen)}'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "on",
            "synchronous_commit": "on" if self.synchronous_commit else "off",
            "max_connections": "200",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in options.items())

    def start(self) -> None:
        log = self.root / "server.log"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "immediate") -> None:
        """Stop (killing every connection) and start again."""
        self.stop(mode)
        self.start()

    def url(self, dbname: str = "postgres", user: str = "postgres") -> str:
        """A URL over the Unix socket (trusted)."""
        return f"postgresql://{user}@/{dbname}?host={self.root}&port={self.port}"

    def tcp_url(self, dbname: str, user: str, password: str) -> str:
        """A URL over TCP to 127.0.0.1 (a password is checked)."""
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{dbname}"

    def execute(self, statement: str, dbname: str = "postgres") -> None:
        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[call-overload]

    def create_database(self) -> str:
        """Create an empty database with a fresh name; return the name."""
        name = f"t_{secrets.token_hex(6)}"
        self.execute(f"CREATE DATABASE {name}")
        return name

    def new_database(self) -> str:
        """A URL of an empty place for one journal: a fresh schema, first in the search path,
        of one database the tests share (a schema is made in a millisecond; a database with
        ``fsync=on`` takes about a second)."""
        if not self._shared:
            self._shared = self.create_database()
        schema = f"s_{secrets.token_hex(6)}"
        self.execute(f"CREATE SCHEMA {schema}", self._shared)
        return f"{self.url(self._shared)}&options=-csearch_path%3D{schema}"


@contextlib.contextmanager
def postgres_server(
    *, synchronous_commit: bool = True, listen: Sequence[str] = (), trusted: Sequence[str] = ()
) -> Iterator[PostgresServer]:
    """Start a server in a temporary directory; stop it and delete everything at the end.
    `listen` adds addresses beside 127.0.0.1; connections from the `trusted` networks (CIDR)
    need no password."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="actorflow-pg-"))
    try:
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(root, postgres.pw_uid, postgres.pw_gid)
        root.chmod(0o700)
        server = PostgresServer(
            root,
            bindir,
            _free_port(),
            synchronous_commit=synchronous_commit,
            listen=listen,
            trusted=trusted,
        )
        server.initdb()
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(RuntimeError):
                server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
