"""The spawn options a durable actor is re-created with, stored beside its arguments (J5)."""

from __future__ import annotations

import logging

import msgspec

from .._spec import DEFAULT_MAILBOX_SIZE, Child, Restart

__all__ = ["ActorOptions", "decode_options", "encode_options", "options_of"]

logger = logging.getLogger("actorflow")


class ActorOptions(msgspec.Struct, frozen=True):
    """A durable actor's options as the journal holds them (older rows lack newer fields)."""

    restart: Restart = "permanent"
    mailbox_size: int = DEFAULT_MAILBOX_SIZE
    max_attempts: int = 3
    shutdown_timeout: float = 5.0
    passivate_after: float | None = None
    module: str = ""
    """The module defining the actor's class: the CLI imports it to check `send` (J11)."""


def options_of(spec: Child) -> ActorOptions:
    return ActorOptions(
        spec.restart,
        spec.mailbox_size,
        spec.max_attempts,
        spec.shutdown_timeout,
        spec.passivate_after,
        spec.actor.__module__,
    )


def encode_options(spec: Child) -> bytes:
    return msgspec.msgpack.encode(options_of(spec))


def decode_options(data: bytes) -> ActorOptions:
    try:
        return msgspec.msgpack.decode(data, type=ActorOptions) if data else ActorOptions()
    except (msgspec.DecodeError, msgspec.ValidationError):
        logger.warning("unreadable actor options in the journal; using the defaults")
        return ActorOptions()
