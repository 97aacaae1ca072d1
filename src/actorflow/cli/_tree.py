"""The lines of a conversation tree for people: long chains collapsed, depth and length bounded.

A conversation between agents is often a long chain (each message sent while handling the one
before): drawn in full, a 5,000-message chain is 5,000 lines indented ever deeper. Here a run of
messages that each caused exactly one other is one line with a count; ``depth`` stops the tree
at a depth (a line counts what is below), and ``limit`` stops it after that many messages (a
line counts the rest). Work and output are linear in what is shown, whatever the tree's shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, NamedTuple

from ..journal import ConversationNode, MessageRecord

__all__ = ["COLLAPSE_AT", "Below", "Chain", "Line", "More", "Shown", "tree_lines"]

COLLAPSE_AT: Final = 3
"""The fewest messages a run of single children must hide to be drawn as one line."""


class Shown(NamedTuple):
    """One message, drawn under the message that caused it."""

    guide: str
    """What draws its place in the tree (``├─ ``...), before its id."""
    below: str
    """What goes on down the tree beside anything drawn under its line."""
    depth: int
    message: MessageRecord


class Chain(NamedTuple):
    """A run of messages, each the only one the one before caused, drawn as one line."""

    guide: str
    below: str
    depth: int
    """The depth of the run's first message."""
    messages: list[MessageRecord]


class Below(NamedTuple):
    """The messages under a message at the depth limit, counted."""

    guide: str
    below: str
    depth: int
    hidden: int


class More(NamedTuple):
    """The messages after the limit, counted."""

    hidden: int


Line = Shown | Chain | Below | More

_Frame = tuple[ConversationNode, str, str, int]
"""A node still to draw: the node, its guide, the guide of what is under it, its depth."""


def tree_lines(
    roots: list[ConversationNode],
    *,
    depth: int | None = None,
    limit: int | None = None,
    collapse: bool = True,
) -> Iterator[Line]:
    """The lines of the tree under `roots`, depth first: each message or what stands for it.

    `depth` (0: roots only) and `limit` (messages drawn) bound it; `collapse` draws runs of
    `COLLAPSE_AT` or more single children as a `Chain`. Not recursive: a long exchange is a deep
    tree.
    """
    stack: list[_Frame] = [(root, "", "", 0) for root in reversed(roots)]
    shown = 0
    while stack:
        if limit is not None and shown >= limit:
            yield More(sum(_size(node) for node, *_ in stack))
            return
        node, guide, inner, at = stack.pop()
        yield Shown(guide, inner, at, node.message)
        shown += 1
        if not node.children:
            continue
        if depth is not None and at >= depth:
            yield Below(inner + "└┄ ", inner + "   ", at + 1, _size(node) - 1)
            continue
        if collapse and len(node.children) == 1:
            run, last = _run(node.children[0], at + 1, depth)
            if len(run) >= COLLAPSE_AT:
                yield Chain(inner + "└┄ ", inner + "   ", at + 1, run)
                stack.append((last, inner + "   └─ ", inner + "      ", at + 1 + len(run)))
                continue
        end = len(node.children) - 1
        for i in range(end, -1, -1):
            branch, below = ("└─ ", "   ") if i == end else ("├─ ", "│  ")
            stack.append((node.children[i], inner + branch, inner + below, at + 1))


def _run(
    first: ConversationNode, at: int, depth: int | None
) -> tuple[list[MessageRecord], ConversationNode]:
    """The messages from `first` on that each caused exactly one other (and lie above the depth
    limit), and the node after them."""
    run: list[MessageRecord] = []
    node = first
    while len(node.children) == 1 and (depth is None or at < depth):
        run.append(node.message)
        node = node.children[0]
        at += 1
    return run, node


def _size(root: ConversationNode) -> int:
    """How many messages the tree under `root` holds, `root` included."""
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(node.children)
    return count
