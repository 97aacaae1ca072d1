from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actorflow.journal import JournalBackend, MemoryJournal, SQLiteJournal


@pytest.fixture(params=["sqlite", "memory"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JournalBackend]:
    if request.param == "sqlite":
        yield SQLiteJournal(tmp_path / "journal.db")
    else:
        yield MemoryJournal()
