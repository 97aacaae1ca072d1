"""Waking a running system when another process appends to its journal (J11).

The running system listens on a Unix datagram socket named after its journal file; a producer
that appended a message (and its notice) sends one byte to it. The byte carries nothing: the
notice in the journal is the message, so a lost wake-up only delays the pick-up until the
system's slow fallback check, and a wake-up with no notice behind it costs one cheap query.

On Linux the socket lives in the abstract namespace (no file to clean up after a crash, no path
length limit); elsewhere it is a file beside the journal, ``<journal>.wake``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Final

__all__ = ["WakeListener", "wake", "wake_address"]

logger = logging.getLogger("actorflow")

_MAX_PATH: Final = 100  # sun_path holds 104-108 bytes depending on the platform
_ABSTRACT: Final = sys.platform.startswith("linux")  # Linux's abstract socket namespace


def wake_address(journal: Path) -> str | None:
    """The wake socket's address for `journal`, or None if it cannot have one here."""
    real = os.path.realpath(journal)
    if _ABSTRACT:
        digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:32]
        return f"\0actorflow-wake-{digest}"
    address = real + ".wake"
    return address if len(os.fsencode(address)) <= _MAX_PATH else None


def wake(journal: Path) -> bool:
    """Tell the system running on `journal`, if any, to look for notices; True if sent."""
    address = wake_address(journal)
    if address is None or not hasattr(socket, "AF_UNIX"):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        try:
            sock.sendto(b"!", address)
        except OSError:  # nobody listening, or its buffer full: it will look soon anyway
            return False
    return True


class WakeListener:
    """The receiving end: a bound, non-blocking datagram socket, or nothing if it cannot bind."""

    def __init__(self, journal: Path) -> None:
        self.address = wake_address(journal)
        self.socket: socket.socket | None = None
        if self.address is None or not hasattr(socket, "AF_UNIX"):
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            if not self.address.startswith("\0"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.address)  # left by a process that was killed
            sock.bind(self.address)
            if not self.address.startswith("\0"):
                os.chmod(self.address, 0o600)
        except OSError as exc:
            sock.close()
            logger.warning(
                "no wake-up socket for %s (%s): messages appended by other processes are"
                " picked up by the once-a-second check instead",
                journal,
                exc,
            )
            return
        sock.setblocking(False)
        self.socket = sock

    def drain(self) -> None:
        """Read every datagram waiting (their content means nothing)."""
        sock = self.socket
        if sock is None:
            return
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while sock.recv(64):
                pass

    def close(self) -> None:
        sock, self.socket = self.socket, None
        if sock is None:
            return
        sock.close()
        if self.address is not None and not self.address.startswith("\0"):
            with contextlib.suppress(OSError):
                os.unlink(self.address)
