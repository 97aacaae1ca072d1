"""Replay (R1, R2): run a recorded conversation through the current code of its actors.

```python
from actorflow import replay

report = await replay.replay(journal, "task-1")             # strict: steps from the record
report = await replay.replay(journal, "task-1", live={"llm"})  # llm steps called again
print(report.render())
assert not report.diverged
```

Nothing is written to the journal, and nothing outside is called but the steps a mode makes
live. See docs/replay.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import anyio.to_thread

from .._errors import ReplayError
from ..journal import JournalBackend
from ._bundle import BUNDLE_VERSION, read_bundle, write_bundle
from ._engine import Engine
from ._recording import Recording, load_recording, read_recording
from ._report import Divergence, Line, Mode, Replay, TurnReport
from ._suite import BundleScores, Regression, Scorer, SuiteResult, load_baseline, run_suite

__all__ = [
    "BUNDLE_VERSION",
    "BundleScores",
    "Divergence",
    "Line",
    "Mode",
    "Recording",
    "Regression",
    "Replay",
    "ReplayError",
    "Scorer",
    "SuiteResult",
    "TurnReport",
    "load_baseline",
    "load_recording",
    "read_bundle",
    "read_recording",
    "replay",
    "run_suite",
    "write_bundle",
]


async def replay(
    source: JournalBackend | Recording | str | os.PathLike[str],
    conversation: str | None = None,
    *,
    live: Iterable[str] = (),
    fork_at: str | None = None,
) -> Replay:
    """Replay `conversation` of `source` and return the report of what diverged (R1).

    `source` is an open journal backend, a journal file (read-only), or a `Recording`
    (`read_bundle` reads one from a bundle; then `conversation` may be left out). The mode
    is strict unless `live` names steps to call for real (every other step comes from the
    record) or `fork_at` names the step
    from which on every step is called for real (``"write"``, or ``"llm#2"`` for the second
    ``llm`` step of its message).

    Raises `ReplayError` for a conversation the journal does not hold whole, an actor kind
    that is not defined, code that raises or calls a step the record lacks; its `report` is
    the report so far.
    """
    names = frozenset(live)
    if names and fork_at is not None:
        raise ValueError("replay: give live= or fork_at=, not both")
    if isinstance(source, Recording):
        recording = source
    else:
        if conversation is None:
            raise ValueError("replay: name the conversation to replay")
        if isinstance(source, str | os.PathLike):
            path = Path(source)
            recording = await anyio.to_thread.run_sync(read_recording, path, conversation)
        else:
            recording = await load_recording(source, conversation)
    mode: Mode = "live" if names else "fork" if fork_at is not None else "strict"
    return await Engine(recording, mode=mode, live=names, fork_at=fork_at).run()
