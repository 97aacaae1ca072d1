"""`ActorContext`: what an actor knows about itself and its system while it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, final

if TYPE_CHECKING:
    from ._cell import ActorCell
    from ._ref import ActorRef
    from ._system import ActorSystem

__all__ = ["ActorContext"]


@final
class ActorContext:
    """The actor's view of the runtime, available as ``self.ctx`` from the constructor on."""

    __slots__ = ("_cell",)

    def __init__(self, cell: ActorCell) -> None:
        self._cell = cell

    @property
    def ref(self) -> ActorRef[Any]:
        """This actor's own reference, to hand to others."""
        return self._cell.ref

    @property
    def name(self) -> str:
        """This actor's name."""
        return self._cell.name

    @property
    def system(self) -> ActorSystem:
        """The system the actor runs in (to spawn or look up other actors)."""
        return self._cell.system

    @property
    def attempt(self) -> int:
        """Which attempt at the current message this is: 1, then 2 after a failure (S7)."""
        current = self._cell.current
        return 1 if current is None else current.attempts + 1

    @property
    def message_id(self) -> str | None:
        """The journal id of the message being handled (durable actors), else None.

        Stable across re-runs of the same message after a crash or a failed attempt: pass it
        to outside services as an idempotency key (J4).
        """
        current = self._cell.current
        return None if current is None else current.id

    @property
    def restarts(self) -> int:
        """How many times this actor has been restarted so far."""
        return self._cell.restarts

    def watch(self, ref: ActorRef[Any]) -> None:
        """Receive `Terminated` when `ref`'s actor stops for good (at once if it already has).

        The actor needs a handler for `Terminated`; without one this raises `DefinitionError`.
        """
        ref._cell.watch(self._cell)

    def unwatch(self, ref: ActorRef[Any]) -> None:
        """Stop watching `ref` (a `Terminated` already queued is still delivered)."""
        ref._cell.watchers.discard(self._cell)

    def stop(self) -> None:
        """Stop this actor after the current message: a normal exit.

        Its supervisor restarts a permanent actor even after a normal exit (OTP's meaning of
        permanent); a transient or temporary one stays stopped.
        """
        self._cell.exit_requested = True

    def __repr__(self) -> str:
        return f"<ActorContext {self._cell.name}>"
