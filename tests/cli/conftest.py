"""Fixtures: the example journal, built once with the real runtime, copied per test."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from .support import build, copy_journal


@pytest.fixture(scope="session")
def built_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("built") / "example.db"
    anyio.run(build, path, backend="asyncio")
    return path


@pytest.fixture
def journal(built_journal: Path, tmp_path: Path) -> Path:
    """A fresh copy of the example journal, which the test may change."""
    return copy_journal(built_journal, tmp_path / "actorflow.db")
