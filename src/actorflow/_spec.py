"""Declarative specs: how to start a child actor and how a supervisor treats its children."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import tenacity

from ._errors import DefinitionError
from ._handlers import Behaviour, is_actor_class
from ._names import normal_name

__all__ = [
    "DEFAULT_MAILBOX_SIZE",
    "Child",
    "Restart",
    "Strategy",
    "Supervisor",
    "default_backoff",
]

Strategy: TypeAlias = Literal["one_for_one", "one_for_all", "rest_for_one"]
"""OTP's strategies (S2): which children restart when one fails."""

Restart: TypeAlias = Literal["permanent", "transient", "temporary"]
"""OTP's restart types (S3): permanent always, transient after a failure, temporary never."""

Wait: TypeAlias = "tenacity.wait.wait_base"

DEFAULT_MAILBOX_SIZE = 1000
"""Default mailbox capacity (A2): deep enough to absorb bursts, small enough that a stuck actor
pushes back on its senders within milliseconds rather than growing memory."""

_STRATEGIES = ("one_for_one", "one_for_all", "rest_for_one")
_RESTARTS = ("permanent", "transient", "temporary")


def default_backoff() -> Wait:
    """The default wait between restarts (S5): 10 ms doubling per restart, +10 ms jitter, 2 s cap.

    The first restart comes after 10-20 ms: soon enough that a transient fault costs little,
    late enough that a tight crash loop cannot spin the CPU.
    """
    return tenacity.wait_exponential_jitter(multiplier=0.01, max=2.0, exp_base=2, jitter=0.01)


@dataclass(frozen=True, init=False)
class Child:
    """How to start (and restart) one actor: its class, constructor arguments and options.

    ``Child(Agent, "gpt", name="agent/42", restart="transient")``. The options are those of
    ``ActorSystem.spawn``; `ephemeral` keeps a named actor out of the journal (J1), and
    `passivate_after` unloads an idle durable actor from memory (J5).
    """

    actor: type[Behaviour]
    args: tuple[Any, ...]
    name: str | None
    restart: Restart
    mailbox_size: int
    max_attempts: int
    shutdown_timeout: float
    ephemeral: bool
    passivate_after: float | None

    def __init__(
        self,
        actor: type[Behaviour],
        /,
        *args: Any,
        name: str | None = None,
        restart: Restart = "permanent",
        mailbox_size: int = DEFAULT_MAILBOX_SIZE,
        max_attempts: int = 3,
        shutdown_timeout: float = 5.0,
        ephemeral: bool = False,
        passivate_after: float | None = None,
    ) -> None:
        if not is_actor_class(actor):
            raise DefinitionError(f"{actor!r} is not an Actor subclass")
        _check_name(name)
        _check_restart(restart)
        if mailbox_size < 1:
            raise DefinitionError(f"mailbox_size must be at least 1, not {mailbox_size}")
        if max_attempts < 1:
            raise DefinitionError(f"max_attempts must be at least 1, not {max_attempts}")
        _check_timeout(shutdown_timeout)
        if passivate_after is not None and not passivate_after > 0:
            raise DefinitionError(f"passivate_after must be > 0 seconds, not {passivate_after}")
        set_ = object.__setattr__
        set_(self, "actor", actor)
        set_(self, "args", args)
        set_(self, "name", None if name is None else normal_name(name))
        set_(self, "restart", restart)
        set_(self, "mailbox_size", mailbox_size)
        set_(self, "max_attempts", max_attempts)
        set_(self, "shutdown_timeout", shutdown_timeout)
        set_(self, "ephemeral", ephemeral)
        set_(self, "passivate_after", passivate_after)


@dataclass(frozen=True, kw_only=True)
class Supervisor:
    """A supervisor: its children in start order and how it restarts them (S1-S5).

    At most `max_restarts` restarts within `within` seconds; one more and the supervisor stops its
    children in reverse start order and fails to its own parent (S4). Between restarts it waits
    as `backoff` says (a tenacity wait strategy, called with the number of restarts in a row),
    and that count resets after `reset_after` seconds without a failure (default: `within`).
    """

    name: str
    children: Sequence[Child | Supervisor] = ()
    strategy: Strategy = "one_for_one"
    max_restarts: int = 3
    within: float = 5.0
    backoff: Wait = field(default_factory=default_backoff)
    reset_after: float | None = None
    restart: Restart = "permanent"

    def __post_init__(self) -> None:
        _check_name(self.name)
        object.__setattr__(self, "name", normal_name(self.name))
        if self.strategy not in _STRATEGIES:
            raise DefinitionError(
                f"unknown strategy {self.strategy!r}; use one of {', '.join(_STRATEGIES)}"
            )
        _check_restart(self.restart)
        if self.max_restarts < 0:
            raise DefinitionError(f"max_restarts must be >= 0, not {self.max_restarts}")
        if self.within <= 0:
            raise DefinitionError(f"within must be > 0 seconds, not {self.within}")
        if not callable(self.backoff):
            raise DefinitionError("backoff must be a tenacity wait strategy")
        object.__setattr__(self, "children", tuple(self.children))
        for child in self.children:
            if not isinstance(child, Child | Supervisor):
                raise DefinitionError(f"children must be Child or Supervisor: {child!r}")

    @property
    def healthy_after(self) -> float:
        """Seconds without a failure after which the backoff starts again from the first wait."""
        return self.within if self.reset_after is None else self.reset_after


def _check_name(name: str | None) -> None:
    if name is not None and (not isinstance(name, str) or not name or name != name.strip()):
        raise DefinitionError(f"an actor name must be a non-empty string, not {name!r}")


def _check_restart(restart: str) -> None:
    if restart not in _RESTARTS:
        choices = ", ".join(_RESTARTS)
        raise DefinitionError(f"unknown restart type {restart!r}; use one of {choices}")


def _check_timeout(timeout: float) -> None:
    if not timeout > 0:
        raise DefinitionError(f"shutdown_timeout must be > 0 seconds, not {timeout}")
