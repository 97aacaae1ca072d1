"""The ``actorflow`` command: a Click group whose failures are one line each (P3).

Click runs in non-standalone mode so that every way a command can fail passes through
`ActorflowGroup.main`, which prints ``actorflow: error: ...`` on stderr and exits 2 for a wrong
command line, 1 for a failure. ``--debug`` re-raises instead, for the traceback.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NoReturn, final

import click

from ._errors import EXIT_FAILURE, EXIT_USAGE, describe, one_line
from ._journal import journal
from ._mcp import mcp
from ._replay import replay_command
from ._run import run
from ._send import send
from ._ui import ui

__all__ = ["app", "main"]

# Click >= 8.2 raises this (a UsageError) to print a group's help when it is given no command.
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


@final
class _Settings:
    """Global options, set by the group's callback and read when a failure is reported."""

    debug = False


@final
class ActorflowGroup(click.Group):
    """The root group; not meant to be subclassed or reused."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> NoReturn:
        """Run the command line and exit the process with its code (SystemExit).

        Always runs Click in non-standalone mode, whatever `standalone_mode` says, so that every
        failure is reported here as one line.
        """
        settings = _Settings()
        extra["obj"] = settings
        try:
            code = super().main(
                args,
                prog_name or "actorflow",
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except _NO_ARGS_IS_HELP as exc:
            exc.show()
            code = exc.exit_code
        except click.UsageError as exc:
            hint = exc.ctx.command_path if exc.ctx is not None else "the command"
            code = _report(f"{exc.format_message().rstrip('.')}; see '{hint} --help'", EXIT_USAGE)
        except BrokenPipeError:
            # The reader of our output went away (`... | head`): nothing more to say to it.
            sys.stdout = _Pacified(sys.stdout)
            code = EXIT_FAILURE
        except Exception as exc:  # click.Abort (Ctrl-C) included
            if settings.debug:
                raise
            message, code = describe(exc)
            _report(message, code)
        sys.exit(code if isinstance(code, int) else 0)


def _report(message: str, code: int) -> int:
    click.echo(f"actorflow: error: {one_line(message)}", err=True)
    return code


class _Pacified:
    """Stdout after a broken pipe: ignores the interpreter's final flush, which would fail."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    try:
        number = version("actorflow")
    except PackageNotFoundError:  # run from a source tree that is not installed
        from .. import __version__ as number
    click.echo(f"actorflow {number}")
    ctx.exit()


@click.group(cls=ActorflowGroup, name="actorflow")
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_version,
    help="Print actorflow's version and exit.",
)
@click.option("--debug", is_flag=True, help="On a failure, show the traceback, not one line.")
@click.pass_context
def app(ctx: click.Context, debug: bool) -> None:
    """actorflow: run an actorflow system, send it messages, and inspect its journal.

    Shell completion: eval "$(_ACTORFLOW_COMPLETE=bash_source actorflow)" in ~/.bashrc (zsh:
    zsh_source, fish: fish_source).
    """
    settings = ctx.ensure_object(_Settings)
    settings.debug = debug


app.add_command(journal)
app.add_command(replay_command)
app.add_command(mcp)
app.add_command(run)
app.add_command(send)
app.add_command(ui)


def main(args: Sequence[str] | None = None) -> NoReturn:
    """Run the ``actorflow`` command line with `args` (default: ``sys.argv[1:]``) and exit."""
    app.main(args, prog_name="actorflow")
