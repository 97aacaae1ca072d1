"""``actorflow run MODULE:FACTORY``: the supervisor process for an application's actors (P1)."""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import click

from .._logs import ProcessLog
from .._run import run as run_system
from .._spec import Supervisor
from .._system import ActorSystem
from ..journal import PostgresJournal, is_postgres_url
from ._errors import Failure
from ._options import JOURNAL_VARIABLE, JournalOption

__all__ = ["load_factory", "run"]

Main = Callable[[ActorSystem], Awaitable[Any]]


@click.command("run")
@click.argument("target", metavar="MODULE:FACTORY")
@click.option(
    "--journal",
    cls=JournalOption,
    type=click.Path(dir_okay=False),
    envvar=JOURNAL_VARIABLE,
    show_envvar=True,
    default="actorflow.db",
    show_default=True,
    help="The journal: a SQLite file (created if missing), or a postgresql:// URL of a"
    " database holding an actorflow journal or nothing; recovered first.",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
    help="The lowest level of log lines written to stderr.",
)
@click.option("--log-json", is_flag=True, help="Write log lines as JSON objects.")
@click.option(
    "--node",
    metavar="NAME",
    help="This process's name among the nodes sharing a postgresql:// journal (C2); default"
    " HOSTNAME-PID. A name a live node holds is refused.",
)
@click.option(
    "--lease",
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help="How long this node's lease lasts unless renewed (postgresql:// journals; default 3):"
    " its actors move to other nodes that long after it dies or stops answering.",
)
def run(
    target: str,
    journal: str,
    log_level: str,
    log_json: bool,
    node: str | None,
    lease: float | None,
) -> None:
    """Run an application's actors under a supervisor, over a journal.

    FACTORY is an async function taking the `ActorSystem` (like `actorflow.run`'s main), a
    `Supervisor` (the root, with its children), or a function returning one. The journal is
    recovered first. SIGINT/SIGTERM stop gracefully (exit 0); a second one stops at once
    (exit 128 + the signal); a root supervisor giving up exits 1.
    """
    main, root = load_factory(target)
    backend: str | PostgresJournal = journal
    if node is not None or lease is not None:
        if not is_postgres_url(journal):
            raise click.BadParameter(
                "--node and --lease are for a postgresql:// journal shared by several nodes;"
                f" {journal!r} is a SQLite file, which one node owns",
                param_hint="--node/--lease",
            )
        backend = PostgresJournal(journal, node=node, lease=lease)
    _configure_logging(log_level.upper(), log_json)
    run_system(main, journal=backend, root=root)


def load_factory(target: str) -> tuple[Main, Supervisor | None]:
    """Import MODULE:FACTORY: the main to run and the root supervisor (None: the default).

    Raises `click.BadParameter` for a target that is not MODULE:FACTORY or names nothing, and
    `Failure` for a module that fails to import.
    """
    module_name, colon, attribute = target.partition(":")
    if not colon or not module_name or not attribute:
        raise click.BadParameter(
            f"{target!r} is not MODULE:FACTORY, like myapp.agents:main", param_hint="TARGET"
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # the application lives where it is started, usually
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise click.BadParameter(
                f"no module {module_name!r} (is it on PYTHONPATH?)", param_hint="TARGET"
            ) from exc
        raise Failure(f"importing {module_name} failed: {exc}") from exc
    except Exception as exc:
        raise Failure(
            f"importing {module_name} failed: {type(exc).__name__}: {exc} (run with --debug for"
            " the traceback)"
        ) from exc
    factory = getattr(module, attribute, None)
    if factory is None:
        raise click.BadParameter(f"{module_name} has no {attribute!r}", param_hint="TARGET")
    return _as_main(target, factory)


def _as_main(target: str, factory: Any) -> tuple[Main, Supervisor | None]:
    if inspect.iscoroutinefunction(factory):
        return factory, None
    spec = factory() if callable(factory) and not isinstance(factory, type) else factory
    if isinstance(spec, Supervisor):
        return _serve, spec
    raise click.BadParameter(
        f"{target} is neither an async function taking the system, nor a Supervisor, nor a"
        " function returning one",
        param_hint="TARGET",
    )


async def _serve(system: ActorSystem) -> None:
    """The main of a declared tree: run until a signal stops the system."""
    await anyio.sleep_forever()


def _configure_logging(level: str, as_json: bool) -> None:
    handler: logging.Handler
    if as_json:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_JsonFormatter())
    else:
        handler = ProcessLog(stream=sys.stderr)  # each traceback once, the give-up line last
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry)
