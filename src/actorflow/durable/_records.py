"""The journal records of durable actors: messages, and constructor arguments (J2, J5)."""

from __future__ import annotations

import hashlib
import inspect
import time
import typing
from typing import Any

import msgspec

from .._errors import DecodeError, EncodeError
from .._message import Message
from ..journal import MessageRecord, Reply

__all__ = [
    "args_digest",
    "args_types",
    "decode_args",
    "encode_args",
    "encode_reply",
    "record_for",
    "reply_of",
    "type_tag",
]

_encode = msgspec.msgpack.Encoder().encode


def record_for(
    message: Message,
    recipient: str,
    message_id: str,
    sender: str | None,
    conversation: str | None = None,
    cause: str | None = None,
    trace: str | None = None,
) -> MessageRecord:
    """The journal record of `message` for `recipient`.

    Without a `conversation` the message starts one, named by its own id (J7).
    """
    try:
        body = _encode(message)
    except (TypeError, ValueError, OverflowError) as exc:
        raise EncodeError(f"cannot encode {type(message).__name__} for {recipient}: {exc}") from exc
    return MessageRecord(
        id=message_id,
        recipient=recipient,
        type=message.__struct_config__.tag,  # type: ignore[arg-type]  # always a str (M1)
        body=body,
        sender=sender,
        conversation=conversation or message_id,
        cause=cause,
        created_at=time.time(),
        trace=trace,
    )


def args_types(cls: type[Any]) -> tuple[Any, ...] | None:
    """The annotated types of `cls`'s positional constructor parameters (None: any number)."""
    init = cls.__init__
    if init is object.__init__:
        return ()
    params = list(inspect.signature(init).parameters.values())[1:]
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    try:
        hints = typing.get_type_hints(init)
    except NameError:
        hints = {}
    return tuple(
        hints.get(p.name, Any)
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )


def encode_args(name: str, args: tuple[Any, ...]) -> bytes:
    """Encode a durable actor's constructor arguments, with a clear error if they cannot be."""
    try:
        return _encode(args)
    except (TypeError, ValueError, OverflowError) as exc:
        raise EncodeError(
            f"durable actor {name}: its constructor arguments must be msgpack-encodable (they are"
            f" stored to re-create it after a restart): {exc}; pass names or ids instead, or"
            " spawn it with ephemeral=True"
        ) from exc


def decode_args(cls: type[Any], name: str, data: bytes) -> tuple[Any, ...]:
    """Decode stored constructor arguments, typed by the constructor's annotations.

    As many as were stored: parameters left to their defaults at spawn stay that way.
    """
    try:
        raw = msgspec.msgpack.decode(data, type=list[Any])
        types = args_types(cls)
        if types is None:
            return tuple(raw)
        target: Any = tuple.__class_getitem__(types[: len(raw)] or ((),))
        return tuple(msgspec.convert(raw, target))
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise DecodeError(
            f"cannot decode the constructor arguments of actor {name}: {exc}"
        ) from exc


def encode_reply(result: Any) -> bytes | None:
    """An ask's reply as a turn records it (R1); None if msgpack cannot encode it."""
    try:
        return _encode(result)
    except (TypeError, ValueError, OverflowError):
        return None  # an unencodable reply is not compared by replays, only by its asker


def type_tag(cls: type[Any]) -> str:
    """The name of a reply's type as it travels between nodes (C4): a tagged Struct's tag (a
    `Message`'s, M1), else ``module.qualname`` (``builtins.int``)."""
    config = getattr(cls, "__struct_config__", None)
    tag = None if config is None else config.tag
    return tag if isinstance(tag, str) else f"{cls.__module__}.{cls.__qualname__}"


def reply_of(result: Any) -> Reply:
    """A handler's reply to an ask from another node, as its turn commits it (C4): msgpack,
    tagged with its type; one msgpack cannot encode keeps the reason instead."""
    tag = type_tag(type(result))
    try:
        return Reply(tag, _encode(result))
    except (TypeError, ValueError, OverflowError) as exc:
        return Reply(tag, None, f"msgpack cannot encode it: {exc}")


def args_digest(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes | None:
    """A step's arguments as recorded (R1): BLAKE2b-128 of their msgpack encoding, or None
    when they cannot be encoded (then a replay cannot compare them)."""
    try:
        data = _encode((args, kwargs))
    except (TypeError, ValueError, OverflowError):
        return None
    return hashlib.blake2b(data, digest_size=16).digest()
