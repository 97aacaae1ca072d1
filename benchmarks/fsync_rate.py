"""The disk's fsync rate: the baseline of every sequential durable benchmark, here and in peers.

`make bench` imports it as ``fsync_rate`` (benchmarks/ on the path), ``make bench-peers`` as
``benchmarks.fsync_rate``; it imports nothing of either.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

FSYNC_BYTES = b"x" * 200
"""What the baseline appends before each fsync: about one small journal row."""


def fsyncs_per_second(directory: Path, count: int) -> float:
    """Append `FSYNC_BYTES` to a new file in `directory` and fsync it, `count` times: the
    disk's durable-write rate (each fsync also writes the file's grown size)."""
    path = directory / f"fsync-{secrets.token_hex(6)}.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        start = time.perf_counter_ns()
        for _ in range(count):
            os.write(fd, FSYNC_BYTES)
            os.fsync(fd)
        elapsed = time.perf_counter_ns() - start
    finally:
        os.close(fd)
        path.unlink()
    return count * 1e9 / elapsed
