"""``actorflow mcp serve MODULE:FACTORY``: an application's marked handlers as MCP tools (T3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ._errors import Failure
from ._run import load_factory

if TYPE_CHECKING:
    from ..mcp._serve import HttpAddress

__all__ = ["mcp"]


@click.group()
def mcp() -> None:
    """Serve an application's actors to MCP clients."""


@mcp.command()
@click.argument("target", metavar="MODULE:FACTORY")
@click.option(
    "--journal",
    type=click.Path(dir_okay=False),
    envvar="ACTORFLOW_JOURNAL",
    show_envvar=True,
    default="actorflow.db",
    show_default=True,
    help="The journal file; created if missing, recovered if not.",
)
@click.option(
    "--http",
    "address",
    metavar="HOST:PORT",
    help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio (port 0: any free"
    " one; the address is printed on stderr).",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Let --http listen on a host that is not a loopback address.",
)
@click.option(
    "--progress-every",
    type=click.FloatRange(min=0.01, max=3600),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="How often a call that waits sends progress (to clients that ask for it).",
)
def serve(
    target: str, journal: str, address: str | None, allow_remote: bool, progress_every: float
) -> None:
    """Serve the handlers marked with @actorflow.mcp.tool as MCP tools.

    FACTORY is what `actorflow run` takes: an async function taking the system (which starts
    the actors and returns; serving starts then), a Supervisor, or a function returning one.
    It runs over the journal, and every marked handler of a live actor is a tool. A call is a
    durable message whose id comes from the request (the client's idempotency key, else its
    request id in its session): a retry is answered from the journal, not handled again.
    Serves stdio until the client closes it, or HTTP on a loopback address until
    SIGINT/SIGTERM.
    """
    # Imported here: every other command starts without it (the CLI's start-up is its latency).
    from ..mcp._serve import ServeError
    from ..mcp._serve import serve as serve_tools

    http = None if address is None else _address(address, allow_remote)
    main, root = load_factory(target)
    setup = None if root is not None else main  # a tree's main only waits for a signal
    try:
        serve_tools(setup, journal=journal, root=root, http=http, progress_seconds=progress_every)
    except ServeError as exc:
        raise Failure(str(exc)) from exc


def _address(address: str, allow_remote: bool) -> HttpAddress:
    from ..mcp._serve import HttpAddress, is_loopback

    host, colon, port = address.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(
            f"{address!r} is not HOST:PORT, like 127.0.0.1:8000", param_hint="'--http'"
        )
    if not allow_remote and not is_loopback(host):
        raise click.BadParameter(
            f"refusing to serve on {host}, which is not a loopback address: anyone who can"
            " reach it could call the tools; pass --allow-remote to serve there anyway",
            param_hint="'--http'",
        )
    return HttpAddress(host, int(port), allow_remote)
