"""A process's log on stderr (S4, S7): one line per record, each traceback once, the reason the
system ended last.

``af.run`` installs `ProcessLog` when the application configured no logging, and ``actorflow
run`` uses it for its text logs. A poison message that keeps failing the same way logs a
dead letter per message but prints its traceback once; the line that says why the root
supervisor gave up is held back and written after everything the shutdown logged, so it is the
last line of the process's stderr.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Final, TextIO

__all__ = ["FINAL", "ProcessLog"]

FINAL: Final = "actorflow_final"
"""The `extra` key of a record that says why the system ended (the root's give-up)."""

_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ProcessLog(logging.Handler):
    """Writes records to a stream, one line each; a traceback only the first time it is seen."""

    def __init__(self, level: int = logging.NOTSET, stream: TextIO | None = None) -> None:
        super().__init__(level)
        self.stream = stream
        self.setFormatter(logging.Formatter(_FORMAT))
        self._seen: set[tuple[str, tuple[tuple[str, int], ...]]] = set()
        self._final: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, FINAL, False):
            self._final.append(record)
            return
        self._write(record)

    def write_final(self) -> None:
        """Write the records held back as final: the process is about to end."""
        final, self._final = self._final, []
        for record in final:
            self._write(record)

    def _write(self, record: logging.LogRecord) -> None:
        try:
            line = self._line(record)
            stream = self.stream if self.stream is not None else sys.stderr
            stream.write(line + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)

    def _line(self, record: logging.LogRecord) -> str:
        exc_info = record.exc_info
        record.exc_info, record.exc_text = None, None
        try:
            line = self.format(record)
        finally:
            record.exc_info = exc_info
        if not exc_info or exc_info[1] is None:
            return line
        error = exc_info[1]
        frames = tuple((f.filename, f.lineno or 0) for f in traceback.extract_tb(exc_info[2]))
        key = (type(error).__qualname__, frames)
        if key in self._seen:
            return f"{line} (traceback as above)"
        self._seen.add(key)
        return f"{line}\n{''.join(traceback.format_exception(error)).rstrip()}"
