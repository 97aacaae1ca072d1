"""`actorflow.run`: the process entry point (uvloop, root supervisor, graceful signals)."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import anyio

from ._clock import Clock
from ._collector import tuned_collector
from ._errors import SupervisorGaveUp
from ._logs import ProcessLog
from ._spec import Supervisor
from ._system import ActorSystem
from .journal import JournalBackend

__all__ = ["run"]

T = TypeVar("T")

logger = logging.getLogger("actorflow")

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def uvloop_available() -> bool:
    """True when uvloop can be imported here."""
    return importlib.util.find_spec("uvloop") is not None


def run(
    main: Callable[[ActorSystem], Awaitable[T]],
    *,
    journal: str | os.PathLike[str] | JournalBackend | None = None,
    root: Supervisor | None = None,
    clock: Clock | None = None,
    use_uvloop: bool = True,
    handle_signals: bool = True,
    tune_collector: bool = True,
) -> T | None:
    """Run ``await main(system)`` in a new `ActorSystem` on uvloop; the process entry point.

    With `journal` (a path or a backend), named actors are durable and the system recovers
    what the journal holds before `main` runs (J1, J5).

    Uses plain asyncio where uvloop is not installed. When `main` returns, the system stops
    (actors in reverse start order, S8) and its result is returned. The first SIGINT or SIGTERM
    cancels `main` and stops the system gracefully, and ``run`` returns None; a second one stops
    at once and exits with 128 + the signal's number. If the root supervisor gives up (S4), the
    reason is logged in one line and the process exits with status 1.

    The system runs inside `tuned_collector` (the cyclic garbage collector's youngest
    generation collected every 10,000 allocations rather than 700) unless `tune_collector` is
    False; the collector is set back as it was when ``run`` returns.
    """

    async def supervised() -> T | None:
        result: T | None = None
        single: BaseException | None = None
        try:
            async with anyio.create_task_group() as watchers:
                system = ActorSystem(journal=journal, root=root, clock=clock)
                async with system:
                    with anyio.CancelScope() as main_scope:
                        if handle_signals:
                            await watchers.start(_watch_signals, system, main_scope)
                        result = await main(system)
                watchers.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            if len(group.exceptions) != 1 or isinstance(group.exceptions[0], BaseExceptionGroup):
                raise
            single = group.exceptions[0]
        if single is not None:
            # Raised outside the handler: main's own exception, not a group holding it.
            raise single
        return result

    options: dict[str, Any] = {"use_uvloop": use_uvloop and uvloop_available()}
    collector = tuned_collector() if tune_collector else contextlib.nullcontext()
    with _visible_logs(), collector:
        try:
            return anyio.run(supervised, backend="asyncio", backend_options=options)
        except (SupervisorGaveUp, _Killed, BaseExceptionGroup) as exc:
            status = _exit_status(exc)
            if status is None:
                raise
            raise SystemExit(status) from None


@contextlib.contextmanager
def _visible_logs() -> Iterator[None]:
    """Show actorflow's warnings on stderr when the application configured no logging.

    A process entry point must not fail silently (priority 1): without this, the library's
    NullHandler would swallow the one line that says why the root supervisor gave up. That
    line comes last (`ProcessLog`), also through a `ProcessLog` the application installed.
    """
    installed = None
    if not logging.getLogger().handlers and all(
        isinstance(h, logging.NullHandler) for h in logger.handlers
    ):
        installed = ProcessLog(logging.WARNING)
        logger.addHandler(installed)
    try:
        yield
    finally:
        if installed is not None:
            logger.removeHandler(installed)
        for handler in [installed, *logging.getLogger().handlers, *logger.handlers]:
            if isinstance(handler, ProcessLog):
                handler.write_final()


def _exit_status(exc: BaseException) -> int | None:
    """The exit status for how the system ended, or None for an error to raise as it is."""
    if isinstance(exc, BaseExceptionGroup):
        statuses = [_exit_status(inner) for inner in exc.exceptions]
        if None in statuses:
            return None
        return max(s for s in statuses if s is not None)
    if isinstance(exc, _Killed):
        return 128 + exc.signum
    if isinstance(exc, SupervisorGaveUp):
        return 1  # already logged, in one line, by the supervisor that gave up
    return None


class _Killed(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


async def _watch_signals(
    system: ActorSystem,
    main_scope: anyio.CancelScope,
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    with anyio.open_signal_receiver(*_SIGNALS) as signals:
        task_status.started()
        async for signum in signals:
            name = signal.Signals(signum).name
            if not main_scope.cancel_called:
                logger.warning("%s received: stopping gracefully (again: stop at once)", name)
                main_scope.cancel()
                continue
            logger.warning("%s received again: stopping at once", name)
            system.kill()
            raise _Killed(signum)
