"""How long ``actorflow journal conversation`` takes to draw one long conversation (J7, U1).

The journal holds one conversation of `Sizes.chain_messages` messages (5,000), a chain: each
message sent while handling the one before, as two agents talking back and forth make. The
command runs in this process, its output into a buffer, from opening the journal to the last
line; the baseline is the part no drawing can avoid, reading the conversation's rows
(`JournalReader.conversation`), timed in the same rounds.
"""

from __future__ import annotations

import contextlib
import io
import sqlite3
import time
from pathlib import Path

import actorflow as af
from actorflow.cli._conversation import conversation
from actorflow.journal import JournalReader
from durable import scratch_directory
from harness import Row, Sizes, Target, alternate, expect, now_ns

ROOT = "chain-0"


async def conversation_tree_chain(sizes: Sizes) -> list[Row]:
    with scratch_directory() as directory:
        path = directory / "chain.db"
        await _chain_journal(path, sizes.chain_messages)
        printed: list[str] = []

        async def draw() -> float:
            buffer = io.StringIO()
            start = now_ns()
            with contextlib.redirect_stdout(buffer):
                conversation.main([ROOT, "--journal", str(path)], standalone_mode=False)
            elapsed = (now_ns() - start) / 1e9
            printed.append(buffer.getvalue())
            return elapsed

        async def read() -> float:
            start = now_ns()
            with JournalReader.open(path) as j:
                found = j.conversation(ROOT)
            elapsed = (now_ns() - start) / 1e9
            expect("messages read", len(found), sizes.chain_messages)
            return elapsed

        samples = await alternate(sizes.rounds, {"draw": draw, "read": read})
    lines = printed[-1].splitlines()
    # The headline, the header, its rule, the first message, the collapsed chain, the last one.
    expect("lines drawn", len(lines), 6)
    expect("chain line", f"{sizes.chain_messages - 2:,} in a chain" in lines[4], True)
    return [
        Row(
            "conversation_tree_chain",
            min(samples["draw"]),
            "s",
            target=Target("<=", 1.0, absolute=True),
            baseline=min(samples["read"]),
            note=f"{sizes.chain_messages:,}-message chain drawn as {len(lines)} lines",
        )
    ]


async def _chain_journal(path: Path, count: int) -> None:
    """A journal (made by a real system, so its schema is the current one) holding one chain of
    `count` messages between two actors, written straight into its messages table."""
    async with af.ActorSystem(journal=path):
        pass
    now = time.time()
    rows = [
        (
            f"chain-{i}",
            "bob" if i % 2 else "alice",
            None if i == 0 else ("alice" if i % 2 else "bob"),
            ROOT,
            None if i == 0 else f"chain-{i - 1}",
            now + i * 0.01,
            now + i * 0.01 + 0.005,
        )
        for i in range(count)
    ]
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.executemany(
            "INSERT INTO messages (id, recipient, sender, type, body, conversation, cause,"
            " created_at, attempts, status, done_at) VALUES (?, ?, ?, 'bench.Turn', x'80', ?, ?,"
            " ?, 1, 'done', ?)",
            rows,
        )
