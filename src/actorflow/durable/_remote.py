"""A durable actor that another node owns, as this node's references see it (C4).

A tell to it is committed by this node's writer (J2: acknowledged means committed), and the
journal leaves a notice for the owner, who takes the message in and hands it to the actor in
order (J11's machinery: notices, then NOTIFY after the commit, polling as the fallback). Sent
from a durable handler, the message leaves with the handler's commit (J3), like any other.
If this node has come to own the actor since (it took the shard over), the message goes to the
local actor instead, as if it had been sent to it.

An ask across nodes is refused with a typed error (its reply would have to travel back through
the journal: not built yet).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .. import _outbox
from .._cell import ActorCell
from .._envelope import Envelope
from .._errors import ActorflowError
from .._ids import new_message_id
from .._runtime import Runtime, Supervising
from .._spec import Child
from ._delivery import JournaledCell, Keeper
from ._records import record_for
from ._writer import Delivery

__all__ = ["RemoteCell"]

logger = logging.getLogger("actorflow")


class RemoteCell(JournaledCell):
    """The stand-in of a durable actor owned by another node (never started here)."""

    def __init__(
        self,
        spec: Child,
        name: str,
        runtime: Runtime,
        parent: Supervising,
        keeper: Keeper,
        find: Callable[[str], ActorCell | None],
    ) -> None:
        super().__init__(spec, name, runtime, parent, keeper)
        self.held = None  # it never restores: nothing to hold
        self.find = find

    def _local(self) -> JournaledCell | None:
        """The actor itself, if it runs on this node now."""
        cell = self.find(self.name)
        return cell if isinstance(cell, JournaledCell) and cell is not self else None

    async def send_durable(self, envelope: Envelope, message_id: str | None) -> None:
        """Commit the message for the owner (C4); returns once it is committed."""
        local = self._local()
        if local is not None:
            await local.send_durable(envelope, message_id)
            return
        if envelope.reply is not None:
            raise ActorflowError(
                f"actor {self.name} runs on another node, and an ask across nodes is not"
                " supported yet: tell it instead (it can answer with a tell)"
            )
        outbox = _outbox.current()
        envelope.id = message_id or new_message_id()
        record = record_for(
            envelope.message,
            self.name,
            envelope.id,
            None if outbox is None else outbox.sender,
            None if outbox is None else outbox.conversation,
            None if outbox is None else outbox.cause,
            envelope.trace,
        )
        await self.writer.append([record])

    def committed_delivery(self, envelope: Envelope) -> Delivery:
        """After a turn's commit: the owner takes the message from its notice; if this node
        owns the actor by now, it gets it here (a notice taken later finds it held)."""

        def deliver(seq: int | None) -> None:
            local = self._local()
            if local is not None and seq is not None:
                local.committed_delivery(envelope)(seq)

        return deliver

    async def remove(self) -> None:
        raise ActorflowError(f"actor {self.name} runs on another node: stop it there")

    def __repr__(self) -> str:
        return f"<RemoteCell {self.name}>"
