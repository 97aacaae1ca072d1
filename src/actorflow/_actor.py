"""The `Actor` base class: handlers chosen by their parameter's type, lifecycle hooks, state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, Self

from typing_extensions import TypeVar

from ._cell import ActorCell
from ._context import ActorContext
from ._errors import DefinitionError
from ._handlers import Handler, declared_state_type, discover_handlers, register_kind
from ._message import Message, State

__all__ = ["Actor"]

S = TypeVar("S", bound=State | None, default=None)


class Actor(Generic[S]):
    """The base of every actor: subclass it and write one ``on_*`` method per message type.

    A handler is a method whose name starts with ``on_`` (other than the hooks ``on_start`` and
    ``on_stop``) and whose one parameter is annotated with the message type(s) it accepts: a
    `Message` subclass or a union of them. It may be ``async def`` or a plain ``def``; what it
    returns is the reply to an ``ask``. The actor accepts exactly the types its handlers declare
    (M2) and handles one message at a time, in arrival order (A1).

    ``Actor[MyState]`` gives the actor a typed ``self.state``, made by ``initial_state()``
    (``MyState()`` by default). A restarted in-memory actor starts again from its initial state.

    The constructor receives the positional arguments given to ``spawn``; ``self.ctx`` and
    ``self.state`` are already set when it runs.
    """

    ctx: ActorContext
    state: S

    __actorflow_handlers__: ClassVar[dict[type[Message], Handler] | None] = {}
    __actorflow_state__: ClassVar[type[State] | None] = None
    __actorflow_kind__: ClassVar[str] = ""

    def __init_subclass__(cls, kind: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register_kind(cls, kind or f"{cls.__module__}.{cls.__qualname__}")
        cls.__actorflow_state__ = declared_state_type(cls)
        try:
            cls.__actorflow_handlers__ = discover_handlers(cls)
        except NameError:
            # A string annotation naming a class that does not exist yet (a forward reference):
            # resolved again when the actor is first spawned, with a clear error if it still
            # cannot be.
            cls.__actorflow_handlers__ = None

    def initial_state(self) -> S:
        """Return the state a new (or, in memory, restarted) actor starts from.

        The default builds the declared state type with its field defaults.
        """
        state_type = type(self).__actorflow_state__
        if state_type is None:
            return None  # type: ignore[return-value]  # S is None when no state type is declared
        try:
            return state_type()  # type: ignore[return-value]
        except TypeError as exc:
            raise DefinitionError(
                f"{type(self).__name__} cannot build its initial {state_type.__name__}:"
                f" {exc}; give every field a default or override initial_state()"
            ) from exc

    @classmethod
    def __actorflow_new__(
        cls, cell: ActorCell, args: tuple[Any, ...], state_of: Callable[[Any], Any]
    ) -> Self:
        """A new instance for `cell` (internal): context, then state, then the constructor."""
        actor = cls.__new__(cls)
        actor.ctx = ActorContext(cell)
        actor.state = None  # type: ignore[assignment]  # set next; initial_state may read it
        actor.state = state_of(actor)
        actor.__init__(*args)  # type: ignore[misc]  # the user's constructor
        return actor

    async def on_start(self) -> None:
        """Called before the first message, and again after every restart.

        An exception here fails the start: ``spawn`` raises `StartFailed`; on a restart it counts
        as a failure of the actor towards its supervisor's restart intensity.
        """

    async def on_stop(self) -> None:
        """Called once when the actor stops or is about to be restarted, after its last message.

        Not called when ``on_start`` failed. It runs shielded from cancellation, within the
        shutdown timeout; an exception here is logged and otherwise ignored.
        """
