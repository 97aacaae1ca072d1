"""`Resources`: a system's outside resources (connection pools, clients), opened on first use.

An integration above the public API (``actorflow.mcp``) keeps what it holds per process here
rather than in module globals: ``await system.resource(key, open)`` enters ``open()`` in a task
of its own the first time `key` is asked for, hands every caller the same value, and exits it
when the system stops, after its actors. The task is what makes that work for anyio-based
clients, whose context managers must be entered and exited in one task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import anyio
from anyio.abc import TaskGroup

from ._errors import ActorflowError

__all__ = ["Resources"]

T = TypeVar("T")

logger = logging.getLogger("actorflow")


class _Resource:
    __slots__ = ("closed", "error", "ready", "stop", "value")

    def __init__(self) -> None:
        self.ready = anyio.Event()
        self.stop = anyio.Event()
        self.closed = anyio.Event()
        self.value: Any = None
        self.error: BaseException | None = None

    async def hold(
        self, key: Hashable, open: Callable[[], AbstractAsyncContextManager[Any]]
    ) -> None:
        """Enter the resource, hand it out, and exit it when told to (in this one task)."""
        try:
            async with open() as self.value:
                self.ready.set()
                await self.stop.wait()
        except Exception as exc:
            if self.ready.is_set():
                logger.warning("closing resource %r failed: %s: %s", key, type(exc).__name__, exc)
            else:
                self.error = exc
        finally:
            self.ready.set()
            self.closed.set()


class Resources:
    """The resources of one system, by key; opened on first use, closed in `close`."""

    __slots__ = ("_held", "_tg")

    def __init__(self) -> None:
        self._held: dict[Hashable, _Resource] = {}
        self._tg: TaskGroup | None = None

    def start(self, tg: TaskGroup) -> None:
        """Open resources from now on in tasks of `tg` (the system's)."""
        self._tg = tg

    async def get(self, key: Hashable, open: Callable[[], AbstractAsyncContextManager[T]]) -> T:
        """The resource `key` names, entering ``open()`` first if nobody has yet.

        Waits while it opens. Raises what opening raised (a later call tries again), or
        `ActorflowError` when the system is not running.
        """
        held = self._held.get(key)
        if held is None:
            if self._tg is None:
                raise ActorflowError(
                    f"resource {key!r}: the system is not running (resources open while it runs)"
                )
            held = self._held[key] = _Resource()
            self._tg.start_soon(held.hold, key, open)
        await held.ready.wait()
        if held.error is not None:
            if self._held.get(key) is held:
                del self._held[key]
            raise held.error
        value: T = held.value
        return value

    async def close(self) -> None:
        """Exit every resource, the last opened first, and wait until they have closed."""
        self._tg = None
        held, self._held = list(self._held.values()), {}
        for resource in reversed(held):
            resource.stop.set()
            await resource.closed.wait()
