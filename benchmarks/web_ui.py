"""The web UI on a big journal: the conversations list and a conversation's pages, in ms.

The journal (1M messages in conversations of ten, quick: 100k; a few pending and dead, some
steps) is written with plain sqlite3 in actorflow's row format after actorflow created the
schema, and cached like recovery_time's. Each page is requested through the UI's ASGI app
(httpx2's ASGI transport: routing, the read in a worker thread, the HTML), beside the bare SQL
query of the rows that page shows, on a fresh read-only connection, in the same run.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

import httpx2
import msgspec

import actorflow as af
from actorflow.journal import SCHEMA_VERSION
from actorflow.ui import UiSettings, create_app
from durable import CACHE, CACHE_GITIGNORE, new_id
from harness import Row, Sizes, Target, alternate, expect, now_ns

PER_CONVERSATION = 10
"""Messages per conversation: a task, four questions to workers, their answers, a report."""

REQUESTS = 5
"""Requests per page per round; the round's median is kept, then the best round."""

TARGET_MS = Target("<=", 500.0, absolute=True)

_COLUMNS = (
    "id, recipient, type, body, sender, conversation, cause, created_at,"
    " seq, attempts, status, error, traceback, done_at, trace"
)


async def ui_list_page(sizes: Sizes) -> list[Row]:
    """Time the list page and one conversation's tree and timeline pages."""
    path = await ui_journal(sizes.ui_messages)
    conversations = sizes.ui_messages // PER_CONVERSATION
    middle = _root(conversations // 2)
    app = create_app(UiSettings(journal=path))
    transport = httpx2.ASGITransport(app=app)
    pages = {
        "list": "/",
        "tree": f"/conversations/{quote(middle, safe='')}",
        "timeline": f"/conversations/{quote(middle, safe='')}/timeline",
    }
    baselines: dict[str, Callable[[], float]] = {
        "list": lambda: _bare(
            path,
            f"SELECT {_COLUMNS} FROM messages ORDER BY seq DESC LIMIT ?",
            (50 * PER_CONVERSATION,),
        ),
        "tree": lambda: _bare(
            path, f"SELECT {_COLUMNS} FROM messages WHERE conversation = ? ORDER BY seq", (middle,)
        ),
    }
    baselines["timeline"] = baselines["tree"]
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:

        def page(url: str) -> Callable[[], Awaitable[float]]:
            async def timed() -> float:
                samples = []
                for _ in range(REQUESTS):
                    start = now_ns()
                    answer = await client.get(url)
                    samples.append((now_ns() - start) / 1e6)
                    expect(f"status of {url}", answer.status_code, 200)
                return statistics.median(samples)

            return timed

        def bare(query: Callable[[], float]) -> Callable[[], Awaitable[float]]:
            async def timed() -> float:
                return statistics.median(query() for _ in range(REQUESTS))

            return timed

        contenders: dict[str, Callable[[], Awaitable[float]]] = {}
        for name, url in pages.items():
            contenders[name] = page(url)
            contenders[f"{name} sql"] = bare(baselines[name])
        samples = await alternate(sizes.rounds, contenders)
    size = f"{sizes.ui_messages:,} messages in {conversations:,} conversations"
    notes = {
        "list": f"GET / (the 50 newest conversations, counted) on {size}; baseline: the bare"
        " SQL of their 500 newest message rows on a fresh read-only connection",
        "tree": f"GET /conversations/ID (one of {PER_CONVERSATION} messages, in the middle of"
        " the journal, drawn as a tree); baseline: the bare SQL of its rows",
        "timeline": "GET /conversations/ID/timeline (the same conversation with its steps, as"
        " a waterfall); baseline: the bare SQL of its rows",
    }
    return [
        Row(
            f"ui_{name}_page",
            min(samples[name]),
            "ms",
            TARGET_MS,
            baseline=min(samples[f"{name} sql"]),
            note=notes[name],
        )
        for name in pages
    ]


def _bare(path: Path, sql: str, params: tuple[object, ...]) -> float:
    start = now_ns()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(sql, params).fetchall()
    finally:
        conn.close()
    expect("rows of the bare query", bool(rows), True)
    return (now_ns() - start) / 1e6


def _root(k: int) -> str:
    return f"conv-{k:08d}"


async def ui_journal(messages: int) -> Path:
    """The cached journal of `messages` messages, built first if it is not there yet."""
    path = CACHE / f"ui-v{SCHEMA_VERSION}-{messages}m.db"
    if path.exists():
        return path
    CACHE.mkdir(exist_ok=True)
    ignore = CACHE / ".gitignore"
    if not ignore.exists():
        ignore.write_text(CACHE_GITIGNORE)
    building = CACHE / f"building-{new_id()}.db"
    try:
        async with af.ActorSystem(journal=building):
            pass  # actorflow writes the schema
        _fill(building, messages)
        os.replace(building, path)
    finally:
        _remove(building)
    return path


def _remove(journal: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{journal}{suffix}").unlink(missing_ok=True)


def _fill(path: Path, messages: int) -> None:
    """Conversations of ten: a task to the planner, four questions it sends to workers, their
    four answers, and a report; every 1000th conversation still has its report pending, every
    997th one answer dead; each question records two steps."""
    encode = msgspec.msgpack.encode
    conversations = messages // PER_CONVERSATION
    start = time.time() - conversations * 0.01
    body = encode({"type": "bench.Question", "text": "How is it built? " * 4})
    result = encode({"answer": "Sources: the design notes and the source code."})
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO actors (name, kind, args, options, state, supervisor, handled,"
            " created_at, updated_at) VALUES (?, 'bench.Agent', ?, ?, ?, NULL, 0, ?, ?)",
            [
                (name, encode([]), encode({}), encode({"seen": 0}), start, start)
                for name in ("planner", "worker-0", "worker-1", "worker-2", "worker-3")
            ],
        )

        def rows() -> object:
            for k in range(conversations):
                root = _root(k)
                at = start + k * 0.01
                for j in range(PER_CONVERSATION):
                    m_id = root if j == 0 else f"{root}-{j}"
                    if j == 0:
                        recipient, sender, cause, kind = "planner", None, None, "bench.Task"
                    elif j <= 4:
                        recipient, sender, cause = f"worker-{j - 1}", "planner", root
                        kind = "bench.Question"
                    elif j <= 8:
                        recipient, sender, cause = "planner", f"worker-{j - 5}", f"{root}-{j - 4}"
                        kind = "bench.Answer"
                    else:
                        recipient, sender, cause, kind = (
                            "planner",
                            "planner",
                            f"{root}-8",
                            "bench.Report",
                        )
                    created = at + j * 0.0008
                    status, done = "done", created + 0.0005
                    if j == 9 and k % 1000 == 0:
                        status, done = "pending", None
                    elif j == 5 and k % 997 == 0:
                        status, done = "dead", None
                    error = "RuntimeError: the worker gave up" if status == "dead" else None
                    yield (
                        m_id,
                        recipient,
                        sender,
                        kind,
                        body,
                        root,
                        cause,
                        created,
                        int(status != "pending"),
                        status,
                        error,
                        done,
                    )

        conn.executemany(
            "INSERT INTO messages (id, recipient, sender, type, body, conversation, cause,"
            " created_at, attempts, status, error, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?)",
            rows(),  # type: ignore[arg-type]
        )
        conn.executemany(
            "INSERT INTO steps (message_id, step, result, created_at) VALUES (?, ?, ?, ?)",
            (
                (f"{_root(k)}-{j}", step, result, start + k * 0.01 + j * 0.0008 + offset)
                for k in range(conversations)
                for j in range(1, 5)
                for step, offset in (("search", 0.0002), ("llm", 0.0004))
            ),
        )
        conn.execute("COMMIT")
        (count,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    finally:
        conn.close()
    expect("messages in the built journal", count, conversations * PER_CONVERSATION)
