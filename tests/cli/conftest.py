"""Fixtures: the example journal, built once with the real runtime, copied per test."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from ..journal.postgres_server import PostgresServer
from .support import build, build_steps, copy_journal


@pytest.fixture(scope="session")
def built_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("built") / "example.db"
    anyio.run(build, path, backend="asyncio")
    return path


@pytest.fixture
def journal(built_journal: Path, tmp_path: Path) -> Path:
    """A fresh copy of the example journal, which the test may change."""
    return copy_journal(built_journal, tmp_path / "actorflow.db")


@pytest.fixture(params=["sqlite", "postgresql"])
def new_journal(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a new journal goes, on each engine (C1): a SQLite file's path, or the URL of an
    empty PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "journal.db")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture(scope="session")
def built_steps_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("built") / "steps.db"
    anyio.run(build_steps, path, backend="asyncio")
    return path


@pytest.fixture
def steps_journal(built_steps_journal: Path, tmp_path: Path) -> Path:
    """A fresh copy of the journal with steps and a timer, which the test may change."""
    return copy_journal(built_steps_journal, tmp_path / "steps.db")
