"""The SQLite journal's writer process itself: `main` is what the child that `WriterProcess`
starts runs, given ``PATH SYNCHRONOUS BUSY_TIMEOUT MAX_BYTES``.

It opens its own writer connection (`SQLiteWriter`), answers that it did (or why not), then
commits each batch it reads from stdin and answers with the sequence numbers, until stdin ends.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Literal, cast

import msgspec

from .._crashpoints import crash_together_with
from .._errors import JournalError
from ._records import Batch
from ._sqlite_writer import SQLiteWriter, WriterSettings
from ._writer_process import Reply, read_frame, write_frame

__all__ = ["main"]


def main(argv: list[str]) -> int:
    path, synchronous, busy_timeout, max_bytes = argv
    # The parent stops on these and still commits meanwhile; the end of stdin ends this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    crash_together_with(os.getppid())  # a crash point here kills the journal's process too
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    encode = msgspec.msgpack.Encoder().encode
    decode = msgspec.msgpack.Decoder(Batch).decode
    writer = SQLiteWriter(
        WriterSettings(
            Path(path),
            cast(Literal["FULL", "NORMAL"], synchronous),
            float(busy_timeout),
            int(max_bytes) or None,
        )
    )
    try:
        writer.open()
    except JournalError as exc:
        write_frame(stdout, encode(Reply(error=type(exc).__name__, message=str(exc))))
        return 1
    write_frame(stdout, encode(Reply()))
    try:
        while (frame := read_frame(stdin)) is not None:
            try:
                seqs = writer.write(decode(frame))
            except Exception as exc:  # every error goes back to the commit's waiters, typed
                reply = Reply(seconds=writer.last_write, error=type(exc).__name__, message=str(exc))
            else:
                reply = Reply(seqs, writer.last_write)
            write_frame(stdout, encode(reply))
    finally:
        writer.close()
    return 0
