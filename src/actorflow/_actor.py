"""The `Actor` base class: handlers chosen by their parameter's type, lifecycle hooks, state."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple

from typing_extensions import TypeVar

from ._errors import DefinitionError
from ._message import Message, State

if TYPE_CHECKING:
    from ._context import ActorContext

__all__ = ["Actor", "Handler", "actor_kind", "handlers_of", "state_type_of"]

S = TypeVar("S", bound=State | None, default=None)

# Hook names that start with "on_" but are not message handlers.
_LIFECYCLE = frozenset({"on_start", "on_stop"})

# kind -> actor class: how the journal names an actor's class, to re-create it on recovery (J5).
_by_kind: dict[str, type[Actor[Any]]] = {}


class Handler(NamedTuple):
    """A message handler found on an actor class."""

    name: str
    is_async: bool


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
        _register_kind(cls, kind or f"{cls.__module__}.{cls.__qualname__}")
        cls.__actorflow_state__ = _declared_state_type(cls)
        try:
            cls.__actorflow_handlers__ = _discover_handlers(cls)
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


def actor_kind(kind: str) -> type[Actor[Any]] | None:
    """Return the actor class registered under `kind` (its module and qualified name by
    default, or ``class Agent(Actor[S], kind="agent")``), or None."""
    return _by_kind.get(kind)


def _register_kind(cls: type[Actor[Any]], kind: str) -> None:
    other = _by_kind.get(kind)
    if other is not None and (other.__module__, other.__qualname__) != (
        cls.__module__,
        cls.__qualname__,
    ):
        raise DefinitionError(
            f"actor kind {kind!r} of {cls.__qualname__} is already used by"
            f" {other.__module__}.{other.__qualname__}; give one of them another kind"
        )
    _by_kind[kind] = cls
    cls.__actorflow_kind__ = kind


def handlers_of(cls: type[Actor[Any]]) -> dict[type[Message], Handler]:
    """Return the message handlers of an actor class, resolving deferred annotations."""
    handlers = cls.__actorflow_handlers__
    if handlers is None:
        try:
            handlers = _discover_handlers(cls)
        except NameError as exc:
            raise DefinitionError(
                f"cannot resolve a handler annotation of {cls.__name__}: {exc}; define its"
                " message types at module level before spawning it"
            ) from exc
        cls.__actorflow_handlers__ = handlers
    return handlers


def state_type_of(cls: type[Actor[Any]]) -> type[State] | None:
    """Return the state type an actor class declares (``Actor[MyState]``), or None."""
    return cls.__actorflow_state__


def _discover_handlers(cls: type) -> dict[type[Message], Handler]:
    handlers: dict[type[Message], Handler] = {}
    for name in sorted(dir(cls)):
        if not name.startswith("on_") or name in _LIFECYCLE:
            continue
        method = getattr(cls, name)
        if not inspect.isfunction(method):
            raise DefinitionError(
                f"{cls.__name__}.{name} starts with 'on_' but is not a method; names that"
                " start with 'on_' are reserved for message handlers"
            )
        for message_type in _accepted_types(cls, name, method):
            if message_type in handlers:
                raise DefinitionError(
                    f"{cls.__name__} has two handlers for {message_type.__name__}:"
                    f" {handlers[message_type].name} and {name}"
                )
            handlers[message_type] = Handler(name, inspect.iscoroutinefunction(method))
    return handlers


def _accepted_types(cls: type, name: str, method: Callable[..., Any]) -> list[type[Message]]:
    where = f"{cls.__name__}.{name}"
    params = list(inspect.signature(method).parameters.values())[1:]  # without self
    if len(params) != 1 or params[0].kind not in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        raise DefinitionError(
            f"handler {where} must take exactly one message parameter, like"
            f" `def {name}(self, msg: MyMessage)`"
        )
    hint = typing.get_type_hints(method).get(params[0].name)
    if hint is None:
        raise DefinitionError(
            f"handler {where} needs a type annotation on its parameter naming the message"
            " type(s) it accepts"
        )
    accepted = _union_members(hint)
    bad = [t for t in accepted if not (isinstance(t, type) and issubclass(t, Message))]
    if bad or Message in accepted:
        raise DefinitionError(
            f"handler {where} is annotated with {hint!r}; annotate it with Message subclasses"
        )
    return accepted


def _union_members(hint: Any) -> list[Any]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return list(typing.get_args(hint))
    return [hint]


def _declared_state_type(cls: type) -> type[State] | None:
    for base in getattr(cls, "__orig_bases__", ()):
        origin = typing.get_origin(base)
        if not (isinstance(origin, type) and issubclass(origin, Actor)):
            continue
        (arg,) = typing.get_args(base)
        if arg is None or arg is type(None):
            return None
        if isinstance(arg, type) and issubclass(arg, State):
            return arg
        if isinstance(arg, typing.TypeVar):
            break
        raise DefinitionError(
            f"{cls.__name__} declares state {arg!r}; a state type must subclass State"
        )
    parent = cls.__mro__[1]
    return getattr(parent, "__actorflow_state__", None)
