"""A conversation as a waterfall, like a trace view: one bar per message, one per step.

A message's bar runs from when it was created (sent) to when it was done; a pending or dead
one's runs to the end of the picture, drawn open. The journal records when a step's result was
stored, not when the step began, so a step's bar runs from the moment before it in its message
(the message's creation, or the step before) to when its result was recorded.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Final, Literal

import msgspec

from ..journal import MessageRecord, StepRecord, duration
from ._html import Html, tag
from ._parts import message_url

__all__ = ["Bar", "bars", "waterfall"]

_TICKS: Final = 5


class Bar(msgspec.Struct, frozen=True):
    """One row of the waterfall; `start` and `end` are seconds after the conversation began."""

    kind: Literal["message", "step"]
    label: str
    actor: str
    message_id: str
    status: str
    start: float
    end: float
    open: bool
    """True when the message is not done: the bar has no end yet."""
    anchor: str = ""
    """Where on the message's page the bar links to (a step's place), or ``""``."""


def bars(
    records: Sequence[MessageRecord],
    steps: Mapping[str, Sequence[StepRecord]],
    *,
    now: float | None = None,
) -> tuple[list[Bar], float]:
    """The waterfall's rows, in the order of the messages, and its length in seconds."""
    if not records:
        return [], 0.0
    begin = min(m.created_at for m in records)
    moments = [m.done_at if m.done_at is not None else m.created_at for m in records]
    moments += [s.created_at for group in steps.values() for s in group]
    latest = max(moments)
    if any(m.done_at is None for m in records):
        latest = max(latest, time.time() if now is None else now)
    length = max(latest - begin, 1e-3)
    rows: list[Bar] = []
    for m in records:
        open_ = m.done_at is None
        end = (m.done_at if m.done_at is not None else latest) - begin
        rows.append(
            Bar("message", m.type, m.recipient, m.id, m.status, m.created_at - begin, end, open_)
        )
        before = m.created_at
        for s in steps.get(m.id, ()):
            rows.append(
                Bar(
                    "step",
                    s.step,
                    m.recipient,
                    m.id,
                    m.status,
                    before - begin,
                    s.created_at - begin,
                    False,
                    anchor=step_anchor(s.step),
                )
            )
            before = s.created_at
    return rows, length


def step_anchor(step: str) -> str:
    """The id of a step's row on its message's page."""
    return "step-" + "".join(c if c.isalnum() else "-" for c in step)


def waterfall(rows: Sequence[Bar], length: float) -> Html:
    """The waterfall as a table: labels on the left, bars (SVG, linked) on the right."""
    actors = {name: i % 8 for i, name in enumerate(dict.fromkeys(r.actor for r in rows))}
    axis = tag(
        "tr",
        tag("th", "message / step"),
        tag("th", "actor"),
        tag(
            "th",
            tag(
                "div",
                [
                    tag("span", "+" + duration(length * i / (_TICKS - 1)), class_="tick")
                    for i in range(_TICKS)
                ],
                class_="axis",
            ),
            class_="track-head",
        ),
    )
    body = [_row(r, length, actors[r.actor]) for r in rows]
    return tag("table", tag("thead", axis), tag("tbody", body), class_="waterfall", id="timeline")


def _row(r: Bar, length: float, colour: int) -> Html:
    left = max(0.0, min(100.0, 100.0 * r.start / length))
    width = max(0.4, min(100.0 - left, 100.0 * (r.end - r.start) / length))
    href = message_url(r.message_id) + (f"#{r.anchor}" if r.anchor else "")
    span = duration(r.end - r.start)
    title = f"{r.label} ({r.actor}): +{duration(r.start)} to +{duration(r.end)}, {span}"
    if r.open:
        title += f", {r.status}: not done"
    classes = f"bar {r.kind} actor-{colour} status-{r.status}" + (" open" if r.open else "")
    svg = tag(
        "svg",
        tag(
            "a",
            tag("title", title),
            tag("rect", x=f"{left:.3f}%", y="2", width=f"{width:.3f}%", height="14", rx="2"),
            href=href,
            class_=classes,
        ),
        class_="track",
        role="img",
        aria_label=title,
    )
    label = tag("a", r.label, href=href, class_=f"label {r.kind}")
    return tag(
        "tr",
        tag("td", label, class_="step-label" if r.kind == "step" else None),
        tag("td", r.actor, class_="actor"),
        tag("td", svg),
        class_=f"row-{r.kind}",
    )
