"""Bundles: one recorded conversation in a self-contained, versioned file (R1).

A bundle holds what a replay reads: the conversation's messages, the turns of those handled
(states before and after, replies, steps with their results and argument digests), the
actors they went to (kinds, constructor arguments, options, state) and its timers not fired.
It is msgpack, written whole to a temporary file and renamed into place.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Final

import msgspec

from .._errors import ReplayError
from ._recording import Recording

__all__ = ["BUNDLE_FORMAT", "BUNDLE_VERSION", "read_bundle", "write_bundle"]

BUNDLE_FORMAT: Final = "actorflow.replay-bundle"
BUNDLE_VERSION: Final = 1
"""The bundle format this actorflow writes; a bundle of a higher version is refused."""


class _Header(msgspec.Struct):
    format: str
    version: int


class _Bundle(msgspec.Struct):
    format: str
    version: int
    created_at: float
    recording: Recording


def write_bundle(recording: Recording, path: Path) -> int:
    """Write `recording` as a bundle at `path` (replacing it); return its size in bytes.

    Only the actors the conversation's messages went to are kept.
    """
    recipients = {m.recipient for m in recording.messages}
    kept = msgspec.structs.replace(
        recording, actors={n: a for n, a in recording.actors.items() if n in recipients}
    )
    data = msgspec.msgpack.encode(_Bundle(BUNDLE_FORMAT, BUNDLE_VERSION, time.time(), kept))
    directory = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return len(data)


def read_bundle(path: Path) -> Recording:
    """Read the bundle at `path`; raise `ReplayError` naming what is wrong with it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReplayError(f"no bundle at {path}") from None
    except OSError as exc:
        raise ReplayError(f"cannot read bundle {path}: {exc}") from exc
    try:
        header = msgspec.msgpack.decode(data, type=_Header)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise ReplayError(f"{path} is not a replay bundle") from None
    if header.format != BUNDLE_FORMAT:
        raise ReplayError(f"{path} is not a replay bundle (its format is {header.format!r})")
    if header.version > BUNDLE_VERSION:
        raise ReplayError(
            f"bundle {path} is format version {header.version}, newer than this actorflow"
            f" reads (up to {BUNDLE_VERSION}); upgrade actorflow to replay it"
        )
    try:
        return msgspec.msgpack.decode(data, type=_Bundle).recording
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ReplayError(f"bundle {path} is damaged: {exc}") from exc
