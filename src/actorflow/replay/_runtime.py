"""What a replay needs of the runtime, in one place: classes by kind, their handlers and state
type, message types by tag, constructor arguments, derived ids (J5, M1, R2).

These are the runtime's own registries and codecs, read the way recovery reads them (J5), so a
replay decodes exactly what the runtime would.
"""

from __future__ import annotations

from typing import Any

from .._handlers import actor_kind, handlers_of, state_type_of
from .._ids import child_message_id
from .._message import Message, State, message_type
from ..durable._records import args_digest, decode_args, encode_reply
from ..durable._steps import call_step_function, return_type

__all__ = [
    "actor_kind",
    "args_digest",
    "call_step_function",
    "child_message_id",
    "decode_args",
    "encode_reply",
    "handler_for",
    "message_type",
    "return_type",
    "state_type_of",
]


def handler_for(cls: type[Any], message: Message) -> tuple[str, bool] | None:
    """The name of `cls`'s handler for `message` and whether it is async, or None."""
    found = handlers_of(cls).get(type(message))
    return None if found is None else (found.name, found.is_async)


def is_state(value: object) -> bool:
    return isinstance(value, State)
