"""What a replay found (R1): each turn side by side, recorded and replayed, and the divergences."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import msgspec

__all__ = ["Divergence", "Line", "Mode", "Replay", "TurnReport"]

Mode: TypeAlias = Literal["strict", "fork", "live"]

Mark: TypeAlias = Literal["=", "!", "+", "-"]
"""A line's mark: the same in both, different, only replayed, only recorded."""


class Divergence(msgspec.Struct, frozen=True, gc=False):
    """One difference between the record and the replay, in the turn `actor#turn`.

    `what` names it: ``message sent``, ``message not sent``, ``message body``, ``message
    type``, ``message recipient``, ``reply``, ``state.FIELD``, ``step NAME``, ``step NAME
    arguments``, ``step NAME result``, ``step NAME not called``, ``step NAME not recorded``,
    ``step order``, ``timer set``, ``timer not set``, ``handled`` (a message that failed for good
    in the record, a dead letter, was handled without an error).
    """

    actor: str
    turn: int
    message_id: str
    what: str
    recorded: str | None = None
    replayed: str | None = None

    @property
    def where(self) -> str:
        return f"{self.actor}#{self.turn}"


class Line(msgspec.Struct, frozen=True, gc=False):
    """One row of the side-by-side view: what the record and the replay have there."""

    mark: Mark
    recorded: str
    replayed: str
    depth: int = 0


class TurnReport(msgspec.Struct, gc=False):
    """One turn: the `turn`-th handled message of `actor` in the conversation."""

    actor: str
    turn: int
    message_id: str
    type: str
    depth: int
    lines: list[Line] = []
    divergences: list[Divergence] = []
    state: Any = None
    """The actor's state after the replayed turn, as plain data (dicts, lists, str...)."""
    recorded_state: Any = None
    """Its state after the recorded turn, as plain data (None when the record has none)."""


class Replay(msgspec.Struct, gc=False):
    """A replay's report: its turns in the order they ran, and every divergence found."""

    conversation: str
    mode: Mode
    turns: list[TurnReport] = []
    error: str | None = None
    """Set when the replay stopped early (code that raised, a step it may not call)."""
    fork_at: str | None = None
    """The step a fork replay was asked to fork at."""
    forked_at: str | None = None
    """Where a fork replay went live (``planner#3 step write``); None if it never did."""

    @property
    def divergences(self) -> list[Divergence]:
        return [d for t in self.turns for d in t.divergences]

    @property
    def diverged(self) -> bool:
        return bool(self.divergences) or self.error is not None

    def final_states(self) -> dict[str, Any]:
        """Each actor's state after its last replayed turn, as plain data (for scorers)."""
        return {t.actor: t.state for t in self.turns}

    def summary(self) -> str:
        """One line: ``12 turns replayed, 2 diverged: planner#3 state.report, ...``."""
        turns = len(self.turns)
        diverged = [t for t in self.turns if t.divergences]
        head = f"{turns} turn{'' if turns == 1 else 's'} replayed, {len(diverged)} diverged"
        if diverged:
            # The first divergence of each turn names it; the rest are counted.
            head += ": " + ", ".join(
                f"{t.actor}#{t.turn} {t.divergences[0].what}"
                + (f" (+{len(t.divergences) - 1})" if len(t.divergences) > 1 else "")
                for t in diverged
            )
        if self.mode == "fork":
            head += (
                f"; forked at {self.forked_at}"
                if self.forked_at is not None
                else f"; step {self.fork_at} never came: every step was from the record"
            )
        if self.error is not None:
            head += f"; stopped: {self.error}"
        return head

    def to_json(self) -> bytes:
        """The report as JSON, for programs (``actorflow replay --json``)."""
        return msgspec.json.encode(
            {
                "conversation": self.conversation,
                "mode": self.mode,
                "diverged": self.diverged,
                "summary": self.summary(),
                "error": self.error,
                "turns": self.turns,
                "divergences": self.divergences,
            }
        )

    def render(self, width: int = 100) -> str:
        """The side-by-side view of the recorded and replayed trees, then the summary line."""
        half = max(20, (width - 5) // 2)
        rows = [f"  {'recorded'.ljust(half)} | replayed"]
        for turn in self.turns:
            for line in turn.lines:
                pad = "  " * line.depth
                left = _cut(pad + line.recorded, half)
                right = _cut(pad + line.replayed, half)
                rows.append(f"{line.mark} {left.ljust(half)} | {right}")
        rows.append(self.summary())
        return "\n".join(rows)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
