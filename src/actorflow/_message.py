"""Message and state types: msgspec Structs with stable tags (M1, M4)."""

from __future__ import annotations

from typing import Any

import msgspec
from typing_extensions import dataclass_transform

from ._errors import DefinitionError

__all__ = ["Message", "State", "Terminated", "message_type", "registered_tags"]

# tag -> message class. Filled at class definition; the journal uses it to name and decode rows.
_by_tag: dict[str, type[Message]] = {}


@dataclass_transform(frozen_default=True, field_specifiers=(msgspec.field,))
class _MessageMeta(msgspec.StructMeta):
    """Registers each message type's tag once msgspec has settled the class's config (M1)."""

    def __new__(
        mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> _MessageMeta:
        cls = super().__new__(mcls, name, bases, namespace, **kwargs)
        if bases and any(isinstance(base, _MessageMeta) for base in bases):
            _register(cls)  # type: ignore[arg-type]
        return cls


class Message(msgspec.Struct, frozen=True, tag=True, metaclass=_MessageMeta):
    """The base of every message type (M1).

    A message is a frozen msgspec Struct, tagged with its class name unless the class says
    otherwise (``class Ask(Message, tag="ask.v2")``). The tag names the type in the journal, so
    keep it stable across renames. Two types with one tag raise `DefinitionError` when the second
    is defined. New fields need defaults so that older bytes still decode (M4).
    """


def _register(cls: type[Message]) -> None:
    config = cls.__struct_config__
    tag = config.tag
    if not isinstance(tag, str):
        raise DefinitionError(f"message type {cls.__qualname__} has tag {tag!r}; use a string")
    if config.tag_field != "type":
        raise DefinitionError(
            f"message type {cls.__qualname__} changes tag_field; actorflow reserves 'type'"
        )
    other = _by_tag.get(tag)
    # Re-defining the same class (a module reloaded, a test run twice) replaces it; a different
    # class claiming the tag is the error M1 names.
    if other is not None and _qualified(other) != _qualified(cls):
        raise DefinitionError(
            f"message tag {tag!r} of {_qualified(cls)} is already used by {_qualified(other)};"
            f" give one of them another tag: class {cls.__name__}(Message, tag='...')"
        )
    _by_tag[tag] = cls


class Terminated(Message, tag="actorflow.Terminated"):
    """Delivered to a watcher when an actor it watches has stopped for good.

    `reason` is ``"normal"``, ``"stopped"`` (by its supervisor or the system) or
    ``"failed: <error>"``.
    """

    actor: str
    reason: str


class State(msgspec.Struct):
    """The base of an actor's state: a mutable msgspec Struct.

    Fields need defaults (``history: list[str] = []`` is copied per instance) unless the actor
    overrides ``initial_state``. Durable actors persist it after every handled message.
    """


def message_type(tag: str) -> type[Message] | None:
    """Return the message class registered under `tag`, or None."""
    return _by_tag.get(tag)


def registered_tags() -> frozenset[str]:
    """Return every message tag defined so far in this process."""
    return frozenset(_by_tag)


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
