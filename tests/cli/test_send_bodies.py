"""``actorflow send``'s body: inline JSON, ``-`` for stdin, ``@PATH`` for a file, at most 16 MiB."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from actorflow.cli._send import MAX_BODY_BYTES

from .support import assert_one_error_line, cli


def sent_text(journal: Path, message_id: str) -> str:
    result = cli(["journal", "show", message_id, "--journal", str(journal), "--json"])
    assert result.exit_code == 0, result.output
    text: str = json.loads(result.stdout)["body"]["text"]
    return text


def count(journal: Path) -> int:
    with sqlite3.connect(journal) as conn:
        (n,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    conn.close()
    return int(n)


def test_a_body_from_stdin(journal: Path) -> None:
    args = ["send", "alice", "cli.Note", "-", "--id", "s-1", "--journal", str(journal)]
    result = cli(args, input=b'{"text": "from stdin"}')
    assert (result.exit_code, result.stdout, result.stderr) == (0, "s-1\n", "")
    assert sent_text(journal, "s-1") == "from stdin"


def test_a_ten_megabyte_body_from_a_file(journal: Path, tmp_path: Path) -> None:
    text = "x" * 10_000_000
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"text": text}))
    args = ["send", "alice", "cli.Note", f"@{body}", "--id", "big", "--journal", str(journal)]
    result = cli(args)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "big\n", "")
    assert sent_text(journal, "big") == text


def test_a_ten_megabyte_body_from_stdin(journal: Path) -> None:
    text = "y" * 10_000_000
    args = ["send", "alice", "cli.Note", "-", "--id", "big", "--journal", str(journal)]
    result = cli(args, input=json.dumps({"text": text}).encode())
    assert result.exit_code == 0, result.output
    assert sent_text(journal, "big") == text


@pytest.mark.parametrize("source", ["file", "stdin", "inline"])
def test_a_body_over_the_limit_is_one_line(journal: Path, tmp_path: Path, source: str) -> None:
    assert MAX_BODY_BYTES == 16 * 1024 * 1024
    oversized = '{"text": "' + "z" * MAX_BODY_BYTES + '"}'
    args = ["send", "alice", "cli.Note"]
    stdin = None
    if source == "file":
        body = tmp_path / "huge.json"
        body.write_text(oversized)
        args.append(f"@{body}")
    elif source == "stdin":
        args.append("-")
        stdin = oversized.encode()
    else:
        args.append(oversized)  # in-process: no ARG_MAX here
    result = cli([*args, "--journal", str(journal)], input=stdin)
    assert_one_error_line(result, 2, "Invalid value for 'JSON'", "is over 16,777,216 bytes")
    assert count(journal) == 6


def test_a_body_of_exactly_the_limit_is_read_whole(journal: Path, tmp_path: Path) -> None:
    prefix, suffix = '{"text": "', '"}'
    text = "w" * (MAX_BODY_BYTES - len(prefix) - len(suffix))
    body = tmp_path / "limit.json"
    body.write_text(prefix + text + suffix)
    assert body.stat().st_size == MAX_BODY_BYTES
    args = ["send", "alice", "cli.Note", f"@{body}", "--id", "edge", "--journal", str(journal)]
    assert cli(args).exit_code == 0
    assert sent_text(journal, "edge") == text


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("missing.json", "No such file or directory"), ("", "Is a directory")],
)
def test_a_body_file_that_cannot_be_read(
    journal: Path, tmp_path: Path, name: str, fragment: str
) -> None:
    path = tmp_path / name
    result = cli(["send", "alice", "cli.Note", f"@{path}", "--journal", str(journal)])
    assert_one_error_line(result, 2, f"cannot read {str(path)!r}", fragment)
    assert count(journal) == 6


def test_a_body_file_that_is_not_json(journal: Path, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b"\xff")
    result = cli(["send", "alice", "cli.Note", f"@{body}", "--journal", str(journal)])
    assert_one_error_line(result, 2, "Invalid value for 'JSON': is not JSON")
