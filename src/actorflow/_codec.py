"""One reusable encoder and typed decoder per set of message types (M3).

msgpack is for storage and the wire, JSON for people. Decoders are typed: bytes decode into one
of the declared types or raise `DecodeError`; pickle is never involved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar, Union, final

import msgspec

from ._errors import DecodeError, DefinitionError, EncodeError
from ._message import Message

__all__ = ["Codec"]

T = TypeVar("T")

_msgpack_encoder = msgspec.msgpack.Encoder()
_json_encoder = msgspec.json.Encoder()


@final
class Codec(Generic[T]):
    """Encodes and decodes values of a fixed set of types; build one per set and reuse it.

    ``Codec(Ask, Answer)`` decodes either message by its tag; ``Codec(ChatState)`` decodes one
    state type. Encoding an unsupported value raises `EncodeError`; bytes that are not one of the
    types raise `DecodeError` naming the expected types and msgspec's reason.
    """

    __slots__ = ("_json", "_msgpack", "_names", "types")

    def __init__(self, *types: type[T]) -> None:
        if not types:
            raise DefinitionError("Codec needs at least one type")
        if len(types) > 1 and not all(issubclass(t, Message) for t in types):
            raise DefinitionError("a Codec of several types needs Message types (tagged)")
        self.types: tuple[type[T], ...] = tuple(types)
        target: Any = types[0] if len(types) == 1 else Union[types]  # noqa: UP007 (runtime union)
        self._msgpack = msgspec.msgpack.Decoder(target)
        self._json = msgspec.json.Decoder(target)
        self._names = ", ".join(t.__name__ for t in types)

    @classmethod
    def of(cls, types: Iterable[type[T]]) -> Codec[T]:
        """Return a codec for the given types (an iterable, in a stable order)."""
        return cls(*sorted(types, key=lambda t: (t.__module__, t.__qualname__)))

    def encode(self, value: T) -> bytes:
        """Encode `value` as msgpack."""
        try:
            return _msgpack_encoder.encode(value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise EncodeError(f"cannot encode {type(value).__name__}: {exc}") from exc

    def decode(self, data: bytes | bytearray | memoryview) -> T:
        """Decode msgpack bytes into one of this codec's types."""
        try:
            value: T = self._msgpack.decode(data)
        except msgspec.DecodeError as exc:
            raise DecodeError(f"cannot decode bytes as {self._names}: {exc}") from exc
        return value

    def encode_json(self, value: T) -> bytes:
        """Encode `value` as JSON, for people and tools."""
        try:
            return _json_encoder.encode(value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise EncodeError(f"cannot encode {type(value).__name__}: {exc}") from exc

    def decode_json(self, data: bytes | str) -> T:
        """Decode JSON into one of this codec's types."""
        try:
            value: T = self._json.decode(data)
        except msgspec.DecodeError as exc:
            raise DecodeError(f"cannot decode JSON as {self._names}: {exc}") from exc
        return value

    def __repr__(self) -> str:
        return f"<Codec {self._names}>"
