"""Text at every door: bytes that are not UTF-8 are one line, and actor names are NFC (P3)."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from pathlib import Path

import pytest

import actorflow as af

from .support import Note, Notebook, assert_one_error_line, cli

NFC = unicodedata.normalize("NFC", "école")
NFD = unicodedata.normalize("NFD", "école")


def test_the_two_spellings_differ() -> None:
    assert NFC != NFD
    assert len(NFC) == 5
    assert len(NFD) == 6


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["journal", "show", "\udcff"], "'ID'"),
        (["journal", "conversation", "\udcff"], "'ID'"),
        (["journal", "requeue", "\udcff"], "'ID'"),
        (["journal", "state", "\udcff"], "'ACTOR'"),
        (["journal", "steps", "\udcff"], "'[MESSAGE_ID]'"),
        (["journal", "steps", "--conversation", "\udcff"], "'--conversation'"),
        (["journal", "conversations", "--actor", "\udcff"], "'--actor'"),
        (["journal", "messages", "--actor", "\udcff"], "'--actor'"),
        (["journal", "messages", "--conversation", "\udcff"], "'--conversation'"),
        (["journal", "messages", "--type", "\udcff"], "'--type'"),
        (["send", "\udcff", "cli.Note", "{}"], "'ACTOR'"),
        (["send", "alice", "\udcff", "{}"], "'TYPE'"),
        (["send", "alice", "cli.Note", "{}", "--id", "\udcff"], "'--id'"),
        (["send", "alice", "cli.Note", "{}", "--conversation", "\udcff"], "'--conversation'"),
    ],
)
def test_p3_text_that_is_not_utf8_is_a_usage_error(
    journal: Path, args: list[str], where: str
) -> None:
    result = cli([*args, "--journal", str(journal)])
    assert_one_error_line(result, 2, f"Invalid value for {where}", "is not valid UTF-8 text")


async def write_ecole(path: Path, spelling: str) -> None:
    """A journal with actor école, spawned under `spelling`, told one note."""
    async with af.ActorSystem(journal=path) as system:
        ref = await system.spawn(Notebook, name=spelling)
        await ref.tell(Note("bonjour"), id="e-1")
        assert system.lookup(NFC) is ref
        assert system.lookup(NFD) is ref
        assert ref.name == NFC


@pytest.mark.anyio
@pytest.mark.parametrize("spelling", [NFC, NFD], ids=["nfc", "nfd"])
async def test_names_are_nfc_through_the_api(tmp_path: Path, spelling: str) -> None:
    path = tmp_path / "names.db"
    await write_ecole(path, spelling)
    with sqlite3.connect(path) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM actors")]
        recipients = [row[0] for row in conn.execute("SELECT recipient FROM messages")]
    conn.close()
    assert names == [NFC]
    assert recipients == [NFC]
    for typed in (NFC, NFD):  # the CLI finds it whichever way it is typed
        result = cli(["journal", "state", typed, "--journal", str(path), "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["name"] == NFC


def test_specs_hold_nfc_names() -> None:
    assert af.Child(Notebook, name=NFD).name == NFC
    assert af.Supervisor(name=NFD).name == NFC


def test_a_name_stored_decomposed_is_found_typed_precomposed(journal: Path) -> None:
    """A journal written before names were normalised may hold a name in NFD."""
    with sqlite3.connect(journal) as conn:
        conn.execute("UPDATE actors SET name = ? WHERE name = 'bob'", (NFD,))
        conn.execute("UPDATE messages SET recipient = ? WHERE recipient = 'bob'", (NFD,))
    conn.close()
    state = cli(["journal", "state", NFC, "--journal", str(journal), "--json"])
    assert state.exit_code == 0, state.output
    assert json.loads(state.stdout)["name"] == NFD
    found = cli(["journal", "messages", "--actor", NFC, "--journal", str(journal), "--json"])
    assert [json.loads(line)["id"] for line in found.stdout.splitlines()] == ["m-03"]
    sent = cli(["send", NFC, "cli.Note", '{"text": "salut"}', "--journal", str(journal)])
    assert sent.exit_code == 0, sent.output
    with sqlite3.connect(journal) as conn:
        (recipient,) = conn.execute("SELECT recipient FROM messages WHERE seq = 7").fetchone()
    conn.close()
    assert recipient == NFD  # delivered to the actor the journal holds, under its spelling


@pytest.mark.anyio
async def test_recovery_refuses_a_stored_name_that_is_not_nfc(journal: Path) -> None:
    """Recovered under its NFC name, the actor would lose its rows: a clear error instead."""
    with sqlite3.connect(journal) as conn:
        conn.execute("UPDATE actors SET name = ? WHERE name = 'bob'", (NFD,))
        conn.execute("UPDATE messages SET recipient = ? WHERE recipient = 'bob'", (NFD,))
        conn.execute("UPDATE messages SET status = 'pending', attempts = 0 WHERE id = 'm-03'")
    conn.close()
    with pytest.raises(af.JournalError, match=r"actor name 'e\\u0301cole', which is not in"):
        async with af.ActorSystem(journal=journal):
            pass
