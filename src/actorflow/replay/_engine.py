"""The replay engine (R1, R2): re-runs a recorded conversation through the current code of its
actors, one turn at a time, in the recorded order, and compares every turn with its record.

Deterministic by construction: one turn at a time, on one task; messages in the order the
journal recorded them (seq), new ones after them in the order they were made; child ids derived
from their cause and position as the runtime derives them (R2); time on a virtual clock that
moves to each recorded message's time. Nothing is written anywhere and nothing outside is called
except the steps the mode makes live.

Each turn starts from its recorded state before (so another conversation that touched the
actor in between is accounted for), unless the actor's previous replayed turn in this
conversation ended in another state than recorded: then the replayed state carries on, so a
change shows its consequences.
"""

from __future__ import annotations

import heapq
import itertools
import math
from typing import Any, cast

import msgspec

from .._context import ActorContext
from .._errors import ReplayError
from .._message import Message
from ..journal import ActorRecord, MessageRecord, StepRecord, TurnRecord
from ._context import NotRecorded, ReplayContext, Sent, StepCall
from ._recording import Recording
from ._report import Divergence, Line, Mode, Replay, TurnReport
from ._runtime import (
    actor_kind,
    child_message_id,
    decode_args,
    encode_reply,
    handler_for,
    message_type,
    state_type_of,
)

__all__ = ["Engine"]

_encode = msgspec.msgpack.Encoder().encode
_SHOWN = 60  # characters of a value shown in the side-by-side view


class _Pending(msgspec.Struct, gc=False):
    id: str
    recipient: str
    type: str
    body: bytes
    message: Message | None
    depth: int


class _Turn:
    """The turn being replayed: what its handler makes, as the runtime's `Turn` counts it."""

    def __init__(self, engine: Engine, message_id: str, recorded: TurnRecord | None) -> None:
        self.engine = engine
        self.message_id = message_id
        self.recorded = recorded
        self.positions = 0
        self.calls: dict[str, int] = {}
        self.steps_made = 0
        self.sends: list[Sent] = []
        self.local: list[Sent] = []  # to actors the journal does not hold: not replayed
        self.steps: list[StepCall] = []
        self.cancels: list[str] = []
        self._recorded_steps = (
            {} if recorded is None else {st.step: st.result for st in recorded.steps}
        )

    def step_key(self, name: str) -> tuple[str, int]:
        calls = self.calls[name] = self.calls.get(name, 0) + 1
        self.steps_made += 1
        return (name if calls == 1 else f"{name}#{calls}"), self.steps_made

    def recorded_step(self, key: str) -> bytes | None:
        return self._recorded_steps.get(key)

    def send(self, recipient: str, message: Message, message_id: str | None) -> None:
        body = _encode(message)
        if recipient not in self.engine.recording.actors:
            # The runtime numbers only sends to durable actors (R2); others are not journaled.
            self.local.append(Sent(message_id or "", recipient, message, body))
            return
        self.positions += 1
        derived = child_message_id(self.message_id, self.positions)
        self.sends.append(Sent(message_id or derived, recipient, message, body))

    def timer(self, recipient: str, message: Message, due: float) -> str:
        self.positions += 1
        timer_id = child_message_id(self.message_id, self.positions)
        self.sends.append(Sent(timer_id, recipient, message, _encode(message), due_at=due))
        return timer_id


class Engine:
    """One replay of one recording (internal: `actorflow.replay.replay` makes and runs it)."""

    def __init__(
        self,
        recording: Recording,
        *,
        mode: Mode = "strict",
        live: frozenset[str] = frozenset(),
        fork_at: str | None = None,
    ) -> None:
        self.recording = recording
        self.conversation = recording.conversation
        self.mode = mode
        self.live = live
        self.fork_at = fork_at
        self.forked = False
        self.now = recording.root.created_at
        self.report = Replay(recording.conversation, mode, fork_at=fork_at)
        self._turn: _Turn | None = None
        self._instances: dict[str, Any] = {}
        self._last: dict[str, tuple[bytes | None, bytes | None]] = {}
        self._counts: dict[str, int] = {}
        self._recorded = {m.id: m for m in recording.messages}
        self._children: dict[str, list[MessageRecord]] = {}
        for m in recording.messages:
            if m.cause is not None:
                self._children.setdefault(m.cause, []).append(m)
        self._unfired = {t.id: t for t in recording.timers}
        for t in recording.timers:
            if t.message.cause is not None:
                self._children.setdefault(t.message.cause, []).append(t.message)
        self._first_before: dict[str, bytes | None] = {}
        for m in recording.messages:
            turn = recording.turns.get(m.id)
            if turn is not None and m.recipient not in self._first_before:
                self._first_before[m.recipient] = turn.before

    # -- what the context asks ------------------------------------------------------------------

    def current_turn(self) -> _Turn:
        if self._turn is None:
            raise ReplayError("a replayed actor sent or called a step outside its handler")
        return self._turn

    def is_live(self, name: str, key: str) -> bool:
        """Whether step `key` (of name `name`) runs for real in this replay's mode."""
        if self.mode == "live":
            return name in self.live
        if self.mode == "fork":
            if not self.forked and self.fork_at in (name, key):
                self.forked = True
                turn = self.report.turns[-1]
                self.report.forked_at = f"{turn.actor}#{turn.turn} step {key}"
            return self.forked
        return False

    # -- the run --------------------------------------------------------------------------------

    async def run(self) -> Replay:
        """Replay every turn; raise `ReplayError` (with the report so far) if one cannot be."""
        root = self.recording.root
        order = itertools.count()
        queue: list[tuple[float, int, _Pending]] = []
        for m in self.recording.messages:
            # The first message, and any other the conversation got from outside (a `send
            # --conversation`, say): no replayed turn makes them, so they come as recorded.
            if m.id == root.id or m.cause is None:
                item = _Pending(m.id, m.recipient, m.type, m.body, None, 0)
                heapq.heappush(queue, (m.seq, next(order), item))
        while queue:
            _, _, pending = heapq.heappop(queue)
            for sent in await self._handle(pending):
                seq = self._delivery_order(sent)
                if seq is not None:
                    item = _Pending(
                        sent.id,
                        sent.recipient,
                        _tag(sent.message),
                        sent.body,
                        sent.message,
                        pending.depth + 1,
                    )
                    heapq.heappush(queue, (seq, next(order), item))
        return self.report

    def _delivery_order(self, sent: Sent) -> float | None:
        """Where a replayed send goes in the order of turns: at its recorded place, or after
        every recorded one; None for a timer that has not fired in the record (nor here)."""
        recorded = self._recorded.get(sent.id)
        if recorded is not None:
            return recorded.seq
        if sent.due_at is not None:
            return None  # a timer not fired in the record: it stays set
        return math.inf

    async def _handle(self, pending: _Pending) -> list[Sent]:
        recorded_message = self._recorded.get(pending.id)
        recorded_turn = self.recording.turns.get(pending.id)
        if recorded_message is not None:
            self.now = max(self.now, recorded_message.created_at)
        actor = pending.recipient
        number = self._counts[actor] = self._counts.get(actor, 0) + 1
        report = TurnReport(actor, number, pending.id, pending.type, pending.depth)
        self.report.turns.append(report)
        record = self.recording.actors.get(actor)
        if record is None:
            raise ReplayError(
                f"{actor}#{number}: no actor {actor!r} in the journal", report=self.report
            )
        if recorded_message is not None and recorded_message.status == "cancelled":
            # Cancelled in the record (`actorflow journal cancel`) before it was handled: the
            # runtime never ran it, so neither does the replay.
            head = f"{actor} {pending.type} {_show(pending.body)}"
            text = f"{head} (cancelled by {recorded_message.cancelled_by or 'someone'})"
            report.lines.append(Line("=", text, text, pending.depth))
            self._counts[actor] = number - 1
            return []
        instance, cls = self._instance(actor, record)
        message = pending.message or self._decode_message(pending, report)
        before = self._before(actor, record, recorded_turn)
        state_type = state_type_of(cls)
        instance.state = (
            msgspec.msgpack.decode(before, type=state_type)
            if before is not None and state_type is not None
            else instance.initial_state()
        )
        found = handler_for(cls, message)
        if found is None:
            raise ReplayError(
                f"{actor}#{number}: {cls.__name__} has no handler for {pending.type}",
                report=self.report,
            )
        turn = self._turn = _Turn(self, pending.id, recorded_turn)
        stopped: NotRecorded | None = None
        result: Any = None
        try:
            result = getattr(instance, found[0])(message)
            if found[1]:
                result = await result
        except NotRecorded as exc:
            stopped = exc  # this turn ends here; what it made never leaves (as on a failure)
        except ReplayError as exc:
            self.report.error = f"{actor}#{number}: {exc}"
            raise ReplayError(self.report.error, report=self.report) from exc
        except Exception as exc:
            if recorded_message is not None and recorded_message.status == "dead":
                # It failed in the record too (a dead letter): as recorded, nothing leaves.
                self._failed_as_recorded(report, pending, recorded_message, exc)
                return []
            self.report.error = f"{actor}#{number} raised {type(exc).__name__}: {exc}"
            raise ReplayError(self.report.error, report=self.report) from exc
        finally:
            self._turn = None
        if recorded_message is not None and recorded_message.status == "dead":
            head = f"{actor}#{number} {pending.type} {_show(pending.body)}"
            rec = f"{head} (dead: {recorded_message.error})"
            report.lines.append(Line("!", rec, head, pending.depth))
            report.divergences.append(
                Divergence(actor, number, pending.id, "handled", recorded_message.error, "handled")
            )
            self._last[actor] = (None, None if state_type is None else _encode(instance.state))
            return turn.sends
        if stopped is not None:
            name = stopped.key.split("#", 1)[0]
            head = f"{actor}#{number} {pending.type} {_show(pending.body)}"
            report.lines.append(
                Line("+" if recorded_turn is None else "!", "", head, pending.depth)
            )
            stop = f"stopped: step {stopped.key} is not in the record"
            report.lines.append(Line("+", "", stop, pending.depth + 1))
            report.divergences.append(
                Divergence(actor, number, pending.id, f"step {name} not recorded", None, stop)
            )
            return []
        after = None if state_type is None else _encode(instance.state)
        self._compare(report, pending, recorded_message, recorded_turn, turn, after, result)
        self._last[actor] = (None if recorded_turn is None else recorded_turn.after, after)
        return turn.sends

    def _failed_as_recorded(
        self, report: TurnReport, pending: _Pending, recorded: MessageRecord, exc: Exception
    ) -> None:
        head = f"{report.actor}#{report.turn} {pending.type} {_show(pending.body)}"
        rec = f"{head} (dead: {recorded.error})"
        rep = f"{head} (raised {type(exc).__name__}: {exc})"
        report.lines.append(Line("=", rec, rep, pending.depth))

    def _instance(self, actor: str, record: ActorRecord) -> tuple[Any, type[Any]]:
        found = self._instances.get(actor)
        if found is not None:
            return found, type(found)
        cls: Any = actor_kind(record.kind)
        if cls is None:
            raise ReplayError(
                f"actor {actor}: its kind {record.kind!r} is not defined; import the module"
                " that defines it (actorflow replay --app MODULE:FACTORY)",
                report=self.report,
            )
        instance = cls.__new__(cls)
        instance.ctx = cast(ActorContext, ReplayContext(self, actor))
        instance.state = None
        instance.state = instance.initial_state()
        try:
            instance.__init__(*decode_args(cls, actor, record.args))
        except Exception as exc:
            raise ReplayError(
                f"actor {actor}: its constructor raised {type(exc).__name__}: {exc}",
                report=self.report,
            ) from exc
        self._instances[actor] = instance
        return instance, cls

    def _decode_message(self, pending: _Pending, report: TurnReport) -> Message:
        cls = message_type(pending.type)
        if cls is None:
            raise ReplayError(
                f"{report.actor}#{report.turn}: message type {pending.type!r} is not defined;"
                " import the module that defines it",
                report=self.report,
            )
        try:
            return msgspec.msgpack.decode(pending.body, type=cls)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ReplayError(
                f"{report.actor}#{report.turn}: message {pending.id} does not decode as"
                f" {cls.__name__}: {exc}",
                report=self.report,
            ) from exc

    def _before(self, actor: str, record: ActorRecord, turn: TurnRecord | None) -> bytes | None:
        last = self._last.get(actor)
        if last is not None and (turn is None or last[0] != last[1]):
            return last[1]  # a divergence carries on (or a turn the record does not have)
        if turn is not None:
            return turn.before
        if actor in self._first_before:
            return self._first_before[actor]
        return record.state

    # -- comparing ------------------------------------------------------------------------------

    def _compare(
        self,
        report: TurnReport,
        pending: _Pending,
        recorded_message: MessageRecord | None,
        recorded: TurnRecord | None,
        turn: _Turn,
        after: bytes | None,
        result: Any,
    ) -> None:
        lines, found = report.lines, report.divergences

        def diverge(what: str, rec: str | None = None, rep: str | None = None) -> None:
            found.append(Divergence(report.actor, report.turn, pending.id, what, rec, rep))

        head = f"{report.actor}#{report.turn} {pending.type} {_show(pending.body)}"
        if recorded is None:
            lines.append(Line("+", "", head, pending.depth))
        else:
            rec_head = head
            if recorded_message is not None and recorded_message.body != pending.body:
                rec_head = f"{report.actor}#{report.turn} {pending.type}"
                rec_head += f" {_show(recorded_message.body)}"
            lines.append(Line("=" if rec_head == head else "!", rec_head, head, pending.depth))
        depth = pending.depth + 1
        self._compare_steps(turn, [] if recorded is None else recorded.steps, lines, depth, diverge)
        self._compare_sends(pending.id, turn, lines, depth, diverge)
        report.state = _plain(after)
        if recorded is not None:
            report.recorded_state = _plain(recorded.after)
            self._compare_state(recorded.after, after, lines, depth, diverge)
            if recorded.reply is not None:
                replayed = encode_reply(result)
                if replayed != recorded.reply:
                    diverge("reply", _whole(recorded.reply), _whole(replayed))
                    lines.append(
                        Line(
                            "!", f"reply {_show(recorded.reply)}", f"reply {_show(replayed)}", depth
                        )
                    )

    def _compare_steps(
        self, turn: _Turn, recorded: list[StepRecord], lines: list[Line], depth: int, diverge: Any
    ) -> None:
        by_key = {st.step: st for st in recorded}
        called = {call.key for call in turn.steps}
        for index, call in enumerate(turn.steps):
            name = call.key.split("#", 1)[0]
            rep = f"step {call.key} -> {_show(call.result)}"
            was = by_key.get(call.key)
            if was is None:
                diverge(f"step {name} not recorded", None, rep)
                lines.append(Line("+", "", rep, depth))
                continue
            rec = f"step {was.step} -> {_show(was.result)}"
            mark: Any = "="
            if (
                index < len(recorded)
                and recorded[index].step != call.key
                and recorded[index].position
            ):
                diverge("step order", recorded[index].step, call.key)
                mark = "!"
            if was.args is not None and call.args is not None and was.args != call.args:
                diverge(f"step {name} arguments", was.args.hex()[:12], call.args.hex()[:12])
                rec += f" (args {was.args.hex()[:8]})"
                rep += f" (args {call.args.hex()[:8]})"
                mark = "!"
            if call.live and call.result != was.result:
                diverge(f"step {name} result", _whole(was.result), _whole(call.result))
                mark = "!"
            lines.append(Line(mark, rec, rep, depth))
        for was in recorded:
            if was.step not in called:
                name = was.step.split("#", 1)[0]
                diverge(f"step {name} not called", was.step, None)
                lines.append(Line("-", f"step {was.step} -> {_show(was.result)}", "", depth))

    def _compare_sends(
        self, cause: str, turn: _Turn, lines: list[Line], depth: int, diverge: Any
    ) -> None:
        derived = child_message_id(cause, 0).rsplit(".", 1)[0] + "."
        recorded: dict[str, MessageRecord] = {}
        outside: dict[str, MessageRecord] = {}  # not of the turn: asks it made (or named ids)
        for m in self._children.get(cause, []):
            (recorded if m.id.startswith(derived) else outside)[m.id] = m
        for sent in turn.sends:
            kind = "timer" if sent.due_at is not None else "message"
            rep = f"-> {sent.recipient} {_tag(sent.message)} {_show(sent.body)}"
            was = recorded.pop(sent.id, None) or outside.pop(sent.id, None)
            if was is None:
                diverge(f"{kind} sent" if kind == "message" else "timer set", None, rep)
                lines.append(Line("+", "", rep, depth))
                continue
            rec = f"-> {was.recipient} {was.type} {_show(was.body)}"
            if was.recipient != sent.recipient:
                diverge(f"{kind} recipient", was.recipient, sent.recipient)
            if was.type != _tag(sent.message):
                diverge(f"{kind} type", was.type, _tag(sent.message))
            elif was.body != sent.body:
                diverge(f"{kind} body", _whole(was.body), _whole(sent.body))
            lines.append(Line("=" if rec == rep else "!", rec, rep, depth))
        for was in recorded.values():
            if was.id in turn.cancels:
                continue
            kind = "timer not set" if was.id in self._unfired else "message not sent"
            rec = f"-> {was.recipient} {was.type} {_show(was.body)}"
            diverge(kind, rec, None)
            lines.append(Line("-", rec, "", depth))
        for was in outside.values():
            # An ask from the handler (or a step) left at once, outside the turn, under a
            # fresh id: a replay neither makes it again nor compares it.
            rec = f"-> {was.recipient} {was.type} {_show(was.body)} (an ask: not replayed)"
            lines.append(Line("=", rec, "", depth))
        for sent in turn.local:
            rep = f"-> {sent.recipient} {_tag(sent.message)} (not journaled: not replayed)"
            lines.append(Line("=", "", rep, depth))

    def _compare_state(
        self,
        recorded: bytes | None,
        after: bytes | None,
        lines: list[Line],
        depth: int,
        diverge: Any,
    ) -> None:
        if recorded == after:
            if after is not None:
                lines.append(Line("=", f"state {_show(after)}", f"state {_show(after)}", depth))
            return
        was = _plain(recorded)
        now = _plain(after)
        if isinstance(was, dict) and isinstance(now, dict):
            for field in sorted(set(was) | set(now), key=str):
                if was.get(field) != now.get(field):
                    diverge(
                        f"state.{field}", _whole_json(was.get(field)), _whole_json(now.get(field))
                    )
                    lines.append(
                        Line(
                            "!",
                            f"state.{field} {_json(was.get(field))}",
                            f"state.{field} {_json(now.get(field))}",
                            depth,
                        )
                    )
            return
        diverge("state", _whole_json(was), _whole_json(now))
        lines.append(Line("!", f"state {_json(was)}", f"state {_json(now)}", depth))


def _tag(message: Message) -> str:
    return cast(str, message.__struct_config__.tag)


def _plain(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return msgspec.msgpack.decode(data)
    except msgspec.DecodeError:
        return data.hex()


def _json(value: Any) -> str:
    try:
        text = msgspec.json.encode(value).decode()
    except (TypeError, msgspec.EncodeError):
        text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _show(data: bytes | None) -> str:
    return _json(_plain(data))


def _whole_json(value: Any) -> str:
    """`value` as JSON, not cut: a divergence keeps the values whole (for --json, scorers)."""
    try:
        return msgspec.json.encode(value).decode()
    except (TypeError, msgspec.EncodeError):
        return repr(value)


def _whole(data: bytes | None) -> str:
    return _whole_json(_plain(data))
