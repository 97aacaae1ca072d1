"""A conversation read back as a tree of causing and caused messages (J7)."""

from __future__ import annotations

import msgspec

from ._records import MessageRecord

__all__ = ["ConversationNode", "conversation_tree"]


class ConversationNode(msgspec.Struct, gc=False):
    """One message of a conversation and the messages sent while handling it."""

    message: MessageRecord
    children: list[ConversationNode] = []

    def walk(self, depth: int = 0) -> list[tuple[int, MessageRecord]]:
        """This message and everything it caused, depth first, with each one's depth."""
        found: list[tuple[int, MessageRecord]] = []
        stack = [(depth, self)]  # not recursive: a long exchange is a deep tree
        while stack:
            at, node = stack.pop()
            found.append((at, node.message))
            stack.extend((at + 1, child) for child in reversed(node.children))
        return found


def conversation_tree(records: list[MessageRecord]) -> list[ConversationNode]:
    """Arrange one conversation's messages (in seq order) as trees, roots in seq order.

    A message whose cause is not among `records` (compacted, or never journaled) is a root.
    """
    nodes = {r.id: ConversationNode(r, []) for r in records}
    roots: list[ConversationNode] = []
    for record in records:
        parent = nodes.get(record.cause) if record.cause is not None else None
        if parent is None or parent.message.id == record.id:
            roots.append(nodes[record.id])
        else:
            parent.children.append(nodes[record.id])
    return roots
