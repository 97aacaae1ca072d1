"""A durable actor that another node owns, as this node's references see it (C4).

A tell to it is committed by this node's writer (J2: acknowledged means committed), and the
journal leaves a notice for the owner, who takes the message in and hands it to the actor in
order (J11's machinery: notices, then NOTIFY after the commit, polling as the fallback). Sent
from a durable handler, the message leaves with the handler's commit (J3), like any other.
If this node has come to run the actor since (it took the shard over), the message goes to the
local actor instead, as if it had been sent to it (`JournaledCell.send_to_owner`); if it owns
the actor and does not run it yet (its shard just taken over, C3, or left passivated in the
journal), the message brings it back here first. So `lookup` gives a stand-in for those too.

An ask to it travels the same way, and its reply comes back through the journal: the owner's
turn commits it with the done-mark, and this node takes it when notified, or polling
(``durable/_asks``, with A3's semantics).
"""

from __future__ import annotations

from .._errors import ActorflowError
from .._runtime import Runtime, Supervising
from .._spec import Child
from ._delivery import JournaledCell, Keeper

__all__ = ["RemoteCell"]


class RemoteCell(JournaledCell):
    """The stand-in of a durable actor not in memory here, owned by another node or not yet
    brought back by this one (never started itself)."""

    moved = True

    def __init__(
        self, spec: Child, name: str, runtime: Runtime, parent: Supervising, keeper: Keeper
    ) -> None:
        super().__init__(spec, name, runtime, parent, keeper)
        self.held = None  # it never restores: nothing to hold

    async def remove(self) -> None:
        local = self.keeper.local(self.name)
        if local is None:
            raise ActorflowError(f"actor {self.name} runs on another node: stop it there")
        await local.remove()

    def __repr__(self) -> str:
        return f"<RemoteCell {self.name}>"
