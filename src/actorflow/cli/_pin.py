"""``actorflow journal pin|unpin ID``: keep a conversation whole through compaction (J10, R2),
so that it stays replayable (``actorflow replay ID``)."""

from __future__ import annotations

import click

from ..journal import pin_conversation
from ._options import Journal, journal_option, where_from
from ._output import Output
from ._params import FILTER_TEXT

__all__ = ["pin", "unpin"]


@click.command()
@click.argument("conversation", metavar="ID", type=FILTER_TEXT)
@journal_option
def pin(conversation: str, journal_path: Journal) -> None:
    """Pin conversation ID: compaction keeps all its messages, steps and states (writes)."""
    changed = pin_conversation(journal_path, conversation, where_from=where_from())
    Output().line(
        f"pinned conversation {conversation}: compaction keeps it whole"
        if changed
        else f"conversation {conversation} was pinned already"
    )


@click.command()
@click.argument("conversation", metavar="ID", type=FILTER_TEXT)
@journal_option
def unpin(conversation: str, journal_path: Journal) -> None:
    """Unpin conversation ID: compaction may remove it again once it is done (writes)."""
    changed = pin_conversation(journal_path, conversation, False, where_from=where_from())
    Output().line(
        f"unpinned conversation {conversation}"
        if changed
        else f"conversation {conversation} was not pinned"
    )
