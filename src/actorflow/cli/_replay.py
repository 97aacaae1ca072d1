"""``actorflow replay ID``: re-run a recorded conversation through the current code (R1).

Reads the journal read-only. The actors' classes are found by their kinds: ``--app MODULE``
(or ``MODULE:FACTORY``, whose module is imported; the factory is not called) first, then the
modules the journal says define them. Prints the side-by-side diff of the recorded and
replayed trees and a summary line; in strict mode (the default) a divergence exits 1, so CI
can hold code to recorded conversations.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import anyio
import click
import msgspec

from .._errors import ReplayError
from ..durable import ActorOptions
from ..journal import journal_name
from ..replay import (
    Recording,
    Replay,
    SuiteResult,
    load_baseline,
    read_bundle,
    read_recording,
    replay,
    run_suite,
    write_bundle,
)
from ._errors import Failure
from ._options import Journal, journal_option, json_option, where_from
from ._output import Column, Output
from ._params import FILTER_TEXT

__all__ = ["export_bundle", "replay_command"]


@click.command("replay")
@click.argument("conversation", metavar="[ID]", type=FILTER_TEXT, required=False)
@journal_option
@click.option(
    "--bundle",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Replay the conversation in this bundle (actorflow journal export --bundle) instead of"
    " one of the journal.",
)
@click.option(
    "--app",
    "app",
    metavar="MODULE[:FACTORY]",
    help="Import MODULE first: the one that defines the actors' classes and messages.",
)
@click.option("--strict", "strict", is_flag=True, help="Every step from the record (the default).")
@click.option(
    "--fork-at",
    "fork_at",
    metavar="STEP",
    type=FILTER_TEXT,
    help="Steps from the record up to STEP (a step name, or NAME#2 for its second call in a"
    " message); STEP and every step after it called for real.",
)
@click.option(
    "--live",
    "live",
    metavar="NAME[,NAME]",
    help="Call steps of these names for real (an `llm` on a new model); the rest from the record.",
)
@click.option(
    "--suite",
    type=click.Path(path_type=Path, file_okay=False),
    help="Evals: replay every *.bundle in this directory and score each with --scorer.",
)
@click.option(
    "--scorer",
    metavar="MODULE:FUNC",
    help="With --suite: FUNC(recorded, replayed) returns named scores, higher is better.",
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path, dir_okay=False),
    help="With --suite: compare with the scores saved in this file; regressions exit 1.",
)
@click.option(
    "--save",
    type=click.Path(path_type=Path, dir_okay=False),
    help="With --suite: save the scores to this file, to be a later run's --baseline.",
)
@json_option
def replay_command(
    conversation: str | None,
    journal_path: Journal,
    bundle: Path | None,
    app: str | None,
    strict: bool,
    fork_at: str | None,
    live: str | None,
    suite: Path | None,
    scorer: str | None,
    baseline: Path | None,
    save: Path | None,
    as_json: bool,
) -> None:
    """Replay conversation ID (or the one in --bundle) through the current code; show what
    diverged (reads only).

    Exit status: 1 when a strict replay diverged or the replay could not finish (the diff so
    far is printed first), 0 otherwise.
    """
    names = [n.strip() for n in (live or "").split(",") if n.strip()]
    if sum((strict, fork_at is not None, bool(names))) > 1:
        raise click.UsageError("give one of --strict, --fork-at and --live")
    if live is not None and not names:
        raise click.BadParameter("name at least one step", param_hint="'--live'")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `actorflow run` does: the application is here
    if app is not None:
        _import(app.partition(":")[0], "given with --app")
    if suite is not None:
        if conversation is not None or bundle is not None:
            raise click.UsageError("--suite replays a directory of bundles: no ID or --bundle")
        _suite(suite, scorer, baseline, save, names, fork_at, as_json)
        return
    if scorer is not None or baseline is not None or save is not None:
        raise click.UsageError("--scorer, --baseline and --save go with --suite")
    recording = _recording(conversation, journal_path, bundle)
    _import_kinds(recording)
    out = Output()
    try:
        report = _run(recording, names, fork_at)
    except ReplayError as exc:
        if isinstance(exc.report, Replay):
            _show(out, exc.report, as_json)
        raise Failure(str(exc)) from exc
    _show(out, report, as_json)
    if report.mode == "strict" and report.diverged:
        raise SystemExit(1)


def export_bundle(journal_path: Journal, conversation: str, bundle: Path) -> None:
    """``actorflow journal export --conversation ID --bundle FILE``."""
    recording = _recording(conversation, journal_path, None)
    size = write_bundle(recording, bundle)
    turns = len(recording.turns)
    Output().line(
        f"wrote conversation {conversation} to {bundle}: {len(recording.messages)} messages,"
        f" {turns} turn{'' if turns == 1 else 's'}, {size:,} bytes"
    )


def _recording(conversation: str | None, journal_path: Journal, bundle: Path | None) -> Recording:
    try:
        if bundle is not None:
            recording = read_bundle(bundle)
            if conversation is not None and conversation != recording.conversation:
                raise Failure(
                    f"bundle {bundle} holds conversation {recording.conversation!r}, not"
                    f" {conversation!r}"
                )
            return recording
        if conversation is None:
            raise click.UsageError("name a conversation ID, or give --bundle FILE")
        try:
            return read_recording(journal_path, conversation)
        except ReplayError as exc:
            raise Failure(f"{journal_name(journal_path)}{where_from()}: {exc}") from exc
    except ReplayError as exc:
        raise Failure(str(exc)) from exc


def _suite(
    directory: Path,
    scorer: str | None,
    baseline: Path | None,
    save: Path | None,
    live: list[str],
    fork_at: str | None,
    as_json: bool,
) -> None:
    if scorer is None:
        raise click.UsageError("--suite needs --scorer MODULE:FUNC")
    score = _load_scorer(scorer)
    try:
        for path in sorted(directory.glob("*.bundle")):
            _import_kinds(read_bundle(path))
        before = None if baseline is None else load_baseline(baseline)

        async def go() -> SuiteResult:
            return await run_suite(directory, score, live=live, fork_at=fork_at, baseline=before)

        result = anyio.run(go)
    except ReplayError as exc:
        raise Failure(str(exc)) from exc
    if save is not None:
        save.write_bytes(result.to_json() + b"\n")
    out = Output()
    if as_json:
        out.line(result.to_json().decode())
    else:
        _suite_table(out, result)
    errors = [name for name, row in result.bundles.items() if row.error is not None]
    if result.regressions or errors:
        raise SystemExit(1)


def _suite_table(out: Output, result: SuiteResult) -> None:
    if result.regressions:
        out.line(f"{len(result.regressions)} regression(s) against the baseline:")
        for r in result.regressions:
            now = "missing" if r.now is None else f"{r.now:.3f}"
            out.line(f"  {r.bundle}  {r.score}  {r.baseline:.3f} -> {now}")
    names = sorted({name for row in result.bundles.values() for name in row.scores})
    errors = any(row.error is not None for row in result.bundles.values())
    columns = [
        Column("bundle"),
        Column("turns", "right"),
        Column("diverged", "right"),
        *(Column(name, "right") for name in names),
        *([Column("error", fold=True)] if errors else []),
    ]
    rows = [
        [
            bundle,
            str(row.turns),
            str(row.diverged),
            *(f"{row.scores[n]:.3f}" if n in row.scores else "-" for n in names),
            *([row.error or ""] if errors else []),
        ]
        for bundle, row in result.bundles.items()
    ]
    total = [f"{result.total[n]:.3f}" if n in result.total else "-" for n in names]
    rows.append(["total", "", "", *total, *([""] if errors else [])])
    out.table(columns, rows)


def _load_scorer(target: str) -> Any:
    module, colon, name = target.partition(":")
    if not colon or not module or not name:
        raise click.BadParameter("give it as MODULE:FUNC", param_hint="'--scorer'")
    _import(module, "given with --scorer")
    found = getattr(sys.modules[module], name, None)
    if not callable(found):
        raise click.BadParameter(f"{module} has no function {name!r}", param_hint="'--scorer'")
    return found


def _run(recording: Recording, live: list[str], fork_at: str | None) -> Replay:
    async def go() -> Replay:
        return await replay(recording, live=live, fork_at=fork_at)

    return anyio.run(go)


def _show(out: Output, report: Replay, as_json: bool) -> None:
    if as_json:
        out.line(report.to_json().decode())
        return
    out.line(report.render(shutil.get_terminal_size((120, 24)).columns))


def _import_kinds(recording: Recording) -> None:
    """Import the modules the journal says define the conversation's actors (J5)."""
    recipients = {m.recipient for m in recording.messages}
    for name in sorted(recipients):
        record = recording.actors.get(name)
        if record is None or not record.options:
            continue
        try:
            module = msgspec.msgpack.decode(record.options, type=ActorOptions).module
        except msgspec.DecodeError:  # ValidationError included
            continue
        if module and module != "__main__" and module not in sys.modules:
            _import(module, f"which defines actor {name!r}, the journal says")


def _import(module: str, source: str) -> None:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise Failure(
            f"cannot import {module} ({source}): no module named {exc.name!r}; run from your"
            " application's directory or pass --app MODULE"
        ) from exc
    except Exception as exc:
        raise Failure(f"cannot import {module} ({source}): {type(exc).__name__}: {exc}") from exc
