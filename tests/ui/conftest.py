"""Fixtures: the CLI tests' example journal (built once with the real runtime), a copy per
test, and a client for the UI's ASGI app over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from starlette.testclient import TestClient

from actorflow.ui import UiSettings, create_app

from ..cli.support import build, copy_journal


@pytest.fixture(scope="session")
def built_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("built") / "example.db"
    anyio.run(build, path, backend="asyncio")
    return path


@pytest.fixture
def journal(built_journal: Path, tmp_path: Path) -> Path:
    """A fresh copy of the example journal, which the test may change."""
    return copy_journal(built_journal, tmp_path / "actorflow.db")


def client_for(settings: UiSettings, *, loopback_only: bool = True) -> TestClient:
    """A client of the UI's app, addressed to 127.0.0.1 (as a browser on this machine is)."""
    return TestClient(
        create_app(settings, loopback_only=loopback_only),
        base_url="http://127.0.0.1:8233",
        follow_redirects=False,
    )


@pytest.fixture
def client(journal: Path) -> Iterator[TestClient]:
    """A read-only UI over the example journal."""
    with client_for(UiSettings(journal=journal)) as c:
        yield c
