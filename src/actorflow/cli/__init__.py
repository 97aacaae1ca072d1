"""The ``actorflow`` command-line tool: ``actorflow journal ...`` (P2, P3).

Run it as ``actorflow`` (the console script) or ``python -m actorflow``.
"""

from ._app import main as main

__all__ = ["main"]
