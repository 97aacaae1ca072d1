"""`JournalReader.conversations` against a brute-force reading of the same rows (P2, U1).

Rows are written straight into a real journal: any mix of conversations (some without an id,
some whose first messages are gone as after a compaction), actors, statuses and times, which
need not grow with seq. The reader must select, count and order exactly what a plain Python
filter of the rows does.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import actorflow as af
from actorflow.journal import ConversationFilters, ConversationSummary, JournalReader

from .support import EPOCH, cli

ACTORS = ["ann", "bo", "cy"]
STATUSES = ["pending", "done", "dead"]


class Row(NamedTuple):
    seq: int
    id: str
    conversation: str | None
    recipient: str
    sender: str | None
    status: str
    created_at: float
    done_at: float | None

    @property
    def key(self) -> str:
        return self.conversation if self.conversation is not None else self.id


@st.composite
def journals(draw: st.DrawFn) -> list[Row]:
    count = draw(st.integers(0, 24))
    rows: list[Row] = []
    for i in range(count):
        # The conversation of an earlier message, its own id (it starts one), or none; ids of
        # messages that are not there (x-...) stand for conversations whose start was compacted.
        choices = [f"g-{j}" for j in range(i + 1)] + ["x-1", "x-2"]
        conversation = draw(st.none() | st.sampled_from(choices))
        status = draw(st.sampled_from(STATUSES))
        created = EPOCH + draw(st.integers(0, 40))
        done = created + draw(st.integers(0, 5)) if status == "done" else None
        rows.append(
            Row(
                seq=i + 1,
                id=f"g-{i}",
                conversation=conversation,
                recipient=draw(st.sampled_from(ACTORS)),
                sender=draw(st.none() | st.sampled_from(ACTORS)),
                status=status,
                created_at=created,
                done_at=done,
            )
        )
    return rows


filters = st.builds(
    ConversationFilters,
    status=st.none() | st.sampled_from(STATUSES),
    actor=st.none() | st.sampled_from([*ACTORS, "dee"]),
    since=st.none() | st.integers(0, 41).map(lambda n: EPOCH + n),
    until=st.none() | st.integers(0, 41).map(lambda n: EPOCH + n),
)


def brute_force(rows: list[Row], f: ConversationFilters, limit: int) -> list[ConversationSummary]:
    groups: dict[str, list[Row]] = {}
    for row in rows:  # in seq order: each group's first row is its start
        groups.setdefault(row.key, []).append(row)
    found = []
    for key, members in groups.items():
        first = members[0]
        if f.status is not None and all(m.status != f.status for m in members):
            continue
        if f.actor is not None and all(f.actor not in (m.recipient, m.sender) for m in members):
            continue
        if f.since is not None and first.created_at < f.since:
            continue
        if f.until is not None and first.created_at >= f.until:
            continue
        statuses: dict[str, int] = {}
        for m in members:
            statuses[m.status] = statuses.get(m.status, 0) + 1
        last = max(max(m.created_at, m.done_at or m.created_at) for m in members)
        last = max(last, first.created_at)
        found.append(
            ConversationSummary(
                id=key,
                first_message=first.id,
                first_actor=first.recipient,
                statuses=dict(sorted(statuses.items())),
                messages=len(members),
                first_at=first.created_at,
                last_at=last,
                duration=last - first.created_at,
            )
        )
    found.sort(key=lambda c: -next(r.seq for r in rows if r.id == c.first_message))
    return found[:limit]


@pytest.fixture(scope="module")
def empty_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("empty") / "empty.db"

    async def create() -> None:
        async with af.ActorSystem(journal=path):
            pass

    anyio.run(create, backend="asyncio")
    return path


def write(path: Path, rows: list[Row]) -> None:
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO messages (seq, id, recipient, sender, type, body, conversation,"
            " created_at, status, done_at) VALUES (?, ?, ?, ?, 't', x'c0', ?, ?, ?, ?)",
            [
                (r.seq, r.id, r.recipient, r.sender, r.conversation, r.created_at, r.status,
                 r.done_at)
                for r in rows
            ],
        )  # fmt: skip
    conn.close()


@settings(max_examples=150, deadline=None)
@given(rows=journals(), f=filters, limit=st.integers(1, 30))
def test_p2_conversations_are_what_a_plain_filter_of_the_rows_finds(
    empty_journal: Path, rows: list[Row], f: ConversationFilters, limit: int
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(shutil.copyfile(empty_journal, Path(directory) / "j.db"))
        write(path, rows)
        with JournalReader.open(path) as j:
            found = j.conversations(f, limit=limit)
    expected: Any = brute_force(rows, f, limit)
    assert found == expected


# Any text, including lone surrogates (what undecodable bytes in argv become).
anything = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)


@settings(max_examples=100, deadline=None)
@given(
    status=st.none() | st.sampled_from(STATUSES) | anything,
    actor=st.none() | anything,
    since=st.none() | anything | st.datetimes().map(lambda d: d.isoformat()),
    until=st.none() | anything | st.from_regex(r"[0-9]{1,4}[smhdw]", fullmatch=True),
    as_json=st.booleans(),
)
def test_p3_any_filter_text_gives_rows_or_one_error_line(
    built_journal: Path,
    status: str | None,
    actor: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    args = ["journal", "conversations", "--journal", str(built_journal)]
    for option, value in (
        ("--status", status),
        ("--actor", actor),
        ("--since", since),
        ("--until", until),
    ):
        if value is not None:
            args += [option, value]
    if as_json:
        args.append("--json")
    result = cli(args)
    assert result.exit_code in (0, 2), (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code != 0:
        (line,) = result.stderr.splitlines()
        assert line.startswith("actorflow: error: ")
    elif as_json:
        for line in result.stdout.splitlines():
            assert json.loads(line)["id"].startswith("m-")
