"""``actorflow ui``: the web UI over a journal, a file or a ``postgresql://`` URL (U1, U2, C1).

The journal is opened (and checked) before anything is served, so a bad path is the same one
line as for every other command. The UI itself needs the ``ui`` extra (Starlette, uvicorn),
imported only here, so the rest of the CLI works without it.
"""

from __future__ import annotations

from typing import Final

import click

from ..journal import journal_name
from ._errors import Failure
from ._options import Journal, journal_option, open_journal

__all__ = ["ui"]

_MIN_TOKEN: Final = 16
"""Characters an access token must have at least."""


@click.command()
@journal_option
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8233,
    show_default=True,
    help="The port to listen on (0: any free one).",
)
@click.option(
    "--allow-writes",
    is_flag=True,
    help="Allow writes from the browser (requeue, cancel); without it the UI is read-only.",
)
@click.option(
    "--token",
    envvar="ACTORFLOW_UI_TOKEN",
    show_envvar=True,
    default=None,
    help=f"An access token (at least {_MIN_TOKEN} characters) every request must carry;"
    " required for a non-loopback --host.",
)
def ui(journal_path: Journal, host: str, port: int, allow_writes: bool, token: str | None) -> None:
    """Serve a web UI over the journal: conversations, timelines, messages, actors, dead letters.

    It binds to loopback by default and is read-only unless --allow-writes is given. A
    non-loopback --host needs --token; with a token, open the printed address once (it sets a
    cookie) or send "Authorization: Bearer TOKEN". Stop it with Ctrl-C.
    """
    try:
        from .. import ui as web
    except ImportError as exc:
        raise Failure(
            f"the web UI needs its extra ({exc.name or 'starlette'} is not installed):"
            " pip install 'actorflow[ui]'"
        ) from None
    loopback = web.is_loopback(host)
    if not loopback and token is None:
        raise click.UsageError(
            f"--host {host} is not a loopback address: give --token TOKEN (or set"
            " ACTORFLOW_UI_TOKEN) so that only people with the token can use the UI"
        )
    if token is not None and len(token) < _MIN_TOKEN:
        raise click.UsageError(
            f"--token must have at least {_MIN_TOKEN} characters; make one with:"
            " python -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    with open_journal(journal_path):
        pass  # checked: a bad path fails here, before anything is served
    try:
        sock = web.bind(host, port)
    except OSError as exc:
        raise Failure(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    settings = web.UiSettings(journal=journal_path, allow_writes=allow_writes, token=token)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    address = f"http://{shown}:{bound_port}/" + ("?token=" + token if token else "")
    mode = "writes allowed" if allow_writes else "read-only"

    def ready() -> None:
        shown_journal = journal_name(journal_path)
        click.echo(f"actorflow ui: serving {shown_journal} at {address} ({mode}); Ctrl-C to stop")

    with sock:
        try:
            web.serve(settings, sock, loopback_only=loopback, ready=ready)
        except KeyboardInterrupt:  # uvicorn stopped gracefully, then re-raised the Ctrl-C
            click.echo("actorflow ui: stopped")
