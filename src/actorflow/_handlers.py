"""What the runtime knows of an actor class: its handlers, its state type, its kind (M2, J5).

The `Actor` base class (``_actor.py``) fills these in when it is subclassed; the cells below it
read them here, through `Behaviour`, without importing the class users see.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from ._errors import DefinitionError
from ._message import Message, State

__all__ = [
    "Behaviour",
    "Handler",
    "actor_kind",
    "declared_state_type",
    "discover_handlers",
    "handlers_of",
    "is_actor_class",
    "register_kind",
    "state_type_of",
]

# Hook names that start with "on_" but are not message handlers.
_LIFECYCLE = frozenset({"on_start", "on_stop"})

# kind -> actor class: how the journal names an actor's class, to re-create it on recovery (J5).
_by_kind: dict[str, type[Any]] = {}


class Handler(NamedTuple):
    """A message handler found on an actor class."""

    name: str
    is_async: bool


class Behaviour(Protocol):
    """What a cell needs of an actor instance: its state and its lifecycle hooks.

    Every `Actor` subclass is one. ``__actorflow_new__`` builds an instance for a cell: the
    context set, then the state `state_of` gives, then the user's constructor with `args`.
    """

    state: Any

    def initial_state(self) -> Any:
        """The state a new actor starts from."""
        ...

    async def on_start(self) -> None:
        """Called before the first message of every incarnation."""
        ...

    async def on_stop(self) -> None:
        """Called after the last message of every incarnation."""
        ...

    @classmethod
    def __actorflow_new__(
        cls, cell: Any, args: tuple[Any, ...], state_of: Callable[[Any], Any]
    ) -> Behaviour:
        """A new instance for `cell`."""
        ...


def is_actor_class(cls: object) -> bool:
    """Whether `cls` is an actor class (a subclass of `Actor`, registered under its kind)."""
    kind = getattr(cls, "__actorflow_kind__", None)
    return isinstance(cls, type) and kind is not None and _by_kind.get(kind) is cls


def actor_kind(kind: str) -> type[Any] | None:
    """Return the actor class registered under `kind` (its module and qualified name by
    default, or ``class Agent(Actor[S], kind="agent")``), or None."""
    return _by_kind.get(kind)


def register_kind(cls: type[Any], kind: str) -> None:
    """Name `cls` by `kind` in the journal; two classes with one kind are a `DefinitionError`."""
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


def handlers_of(cls: type[Any]) -> dict[type[Message], Handler]:
    """Return the message handlers of an actor class, resolving deferred annotations."""
    handlers: dict[type[Message], Handler] | None = cls.__actorflow_handlers__
    if handlers is None:
        try:
            handlers = discover_handlers(cls)
        except NameError as exc:
            raise DefinitionError(
                f"cannot resolve a handler annotation of {cls.__name__}: {exc}; define its"
                " message types at module level before spawning it"
            ) from exc
        cls.__actorflow_handlers__ = handlers
    return handlers


def state_type_of(cls: type[Any]) -> type[State] | None:
    """Return the state type an actor class declares (``Actor[MyState]``), or None."""
    state: type[State] | None = cls.__actorflow_state__
    return state


def discover_handlers(cls: type) -> dict[type[Message], Handler]:
    """The ``on_*`` methods of `cls` by the message types their parameter accepts."""
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


def declared_state_type(cls: type) -> type[State] | None:
    """The state type `cls` declares as ``Actor[MyState]``, or inherits; None for none."""
    for base in getattr(cls, "__orig_bases__", ()):
        origin = typing.get_origin(base)
        if not (isinstance(origin, type) and hasattr(origin, "__actorflow_kind__")):
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
