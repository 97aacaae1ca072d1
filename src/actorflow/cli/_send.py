"""``actorflow send ACTOR TYPE JSON``: a message from the shell to a named durable actor (J11).

The CLI checks the message as a `tell` would (M2): it imports the module that defines the
actor's class (the journal records it; ``--app`` imports one first), finds the accepted message
type named TYPE, and decodes JSON into it with msgspec. It then appends the message, encoded as
the runtime encodes it, with a notice, and wakes the system running on the journal, if any.
The message comes from outside the system: its sender is null, as for any `tell` from outside,
and it starts a conversation named by its own id unless ``--conversation`` names one.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any, Final

import click
import msgspec
from click.shell_completion import CompletionItem

from .._actor import Actor
from .._handlers import actor_kind, handlers_of
from .._ids import new_message_id
from .._message import Message
from ..durable import ActorOptions, record_for
from ..journal import ActorRecord, JournalReader, append, wake
from ..journal._postgres import is_postgres_url
from ._errors import Failure
from ._options import DEFAULT_JOURNAL, Journal, journal_option, json_option, where_from
from ._output import Output
from ._params import FILTER_TEXT, ID, NAME

__all__ = ["MAX_BODY_BYTES", "send"]

MAX_BODY_BYTES: Final = 16 * 1024 * 1024
"""The largest JSON body `send` takes (16 MiB), inline, from stdin (``-``) or a file (``@path``).

A message is one row of the journal and is read whole into memory by the actor that handles
it; a body larger than this belongs in a file the message names. Inline arguments are also
bounded by the system's limit on a command line (ARG_MAX, about 2 MiB on Linux): use ``@path``
or ``-`` beyond a few hundred kilobytes.
"""

_RUN_FROM_APP = "run from your application's directory or pass --app MODULE"


@click.command()
@click.argument("actor", type=NAME, shell_complete=lambda c, p, i: _actor_names(c, i))
@click.argument("type_name", metavar="TYPE", type=FILTER_TEXT)
@click.argument("body", metavar="JSON", type=FILTER_TEXT)
@click.option(
    "--id",
    "message_id",
    type=ID,
    help="The message's id (default: a new one). An id the journal holds already is not sent"
    " again.",
)
@click.option(
    "--conversation",
    type=ID,
    help="The conversation it belongs to (default: it starts one, named by its id).",
)
@click.option(
    "--app",
    "app_module",
    metavar="MODULE",
    help="Import MODULE first: the one that defines the actor's class and its messages.",
)
@journal_option
@click.option("--no-wake", is_flag=True, help="Do not wake the system running on the journal.")
@json_option
def send(
    actor: str,
    type_name: str,
    body: str,
    message_id: str | None,
    conversation: str | None,
    app_module: str | None,
    journal_path: Journal,
    no_wake: bool,
    as_json: bool,
) -> None:
    """Send a message of type TYPE, given as JSON, to the durable actor ACTOR (writes).

    JSON is the message as a JSON object, or - to read it from stdin, or @PATH to read it from
    the file PATH; at most 16 MiB.

    TYPE is the message type's tag (as `journal messages` shows it), or its class name. The
    module defining the actor's class is imported (the journal names it; the current directory
    is on the path) to check the message as a tell would. The message is appended to the
    journal with its sender null and a system running on the journal is woken to deliver it at
    once; without one, the next system started on the journal delivers it. Prints its id.
    """
    for option, value in (("--id", message_id), ("--conversation", conversation)):
        if value == "":
            raise click.BadParameter("cannot be empty", param_hint=f"'{option}'")
    with JournalReader.open(journal_path, where_from=where_from()) as j:
        record = j.actor(actor)
    message_type = _accepted_type(_actor_class(record, app_module), record, type_name)
    message = _decode(message_type, _body(body))
    outgoing = record_for(message, record.name, message_id or new_message_id(), None, conversation)
    appended = append(journal_path, outgoing, where_from=where_from())
    # On PostgreSQL the wake-up is a NOTIFY after the append's commit (J11).
    woken = not (no_wake or appended.duplicate) and wake(journal_path)
    sent = appended.record
    out = Output()
    if as_json:
        out.json(
            {
                "id": sent.id,
                "seq": sent.seq,
                "conversation": sent.conversation,
                "recipient": sent.recipient,
                "type": sent.type,
                "duplicate": appended.duplicate,
                "woken": woken,
            }
        )
        return
    out.line(sent.id)
    if appended.duplicate:
        click.echo(
            f"actorflow: message {sent.id!r} is in the journal already (seq {sent.seq},"
            f" {sent.type} to {sent.recipient}, {sent.status}): not sent again",
            err=True,
        )


def _actor_names(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    """Shell completion of ACTOR: the journal's actors (none if it cannot be read)."""
    path = ctx.params.get("journal_path") or os.environ.get("ACTORFLOW_JOURNAL", DEFAULT_JOURNAL)
    try:
        with JournalReader.open(path if is_postgres_url(path) else Path(path)) as j:
            names = [a.name for a in j.actor_summaries()]
    except Exception:  # completing must never print an error into the shell
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


# -- the actor's class -------------------------------------------------------------------------


def _actor_class(record: ActorRecord, app_module: str | None) -> type[Actor[Any]]:
    """Import what defines the class of the journal's actor `record`, and return the class."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `actorflow run` does: the application is here
    tried: list[str] = []
    if app_module is not None:
        _import(app_module, given=True, actor=record.name)
        tried.append(app_module)
    cls = actor_kind(record.kind)
    module = _module_of(record)
    if cls is None and module not in ("", "__main__", *tried):
        _import(module, given=False, actor=record.name)
        tried.append(module)
        cls = actor_kind(record.kind)
    if cls is not None:
        return cls
    what = f"actor {record.name!r} (kind {record.kind!r})"
    if tried:
        raise Failure(
            f"importing {' and '.join(tried)} did not define {what}; pass --app MODULE, the"
            " module that defines it"
        )
    if module == "__main__":
        raise Failure(
            f"{what} was defined in a script run as __main__; pass --app MODULE, an importable"
            " module that defines it"
        )
    raise Failure(f"the journal does not say which module defines {what}; pass --app MODULE")


def _module_of(record: ActorRecord) -> str:
    """The module the journal says defines the actor's class ("" if it does not say)."""
    if not record.options:
        return ""
    try:
        return msgspec.msgpack.decode(record.options, type=ActorOptions).module
    except msgspec.DecodeError:  # ValidationError included
        return ""


def _import(module: str, *, given: bool, actor: str) -> None:
    source = "given with --app" if given else f"which defines actor {actor!r}, the journal says"
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name is not None and (module + ".").startswith(exc.name + ".")
        reason = f"no module named {exc.name!r}" if missing else f"{exc}"
        if given and missing:
            raise click.BadParameter(
                f"cannot import {module}: {reason}; check the name, and run from your"
                " application's directory",
                param_hint="'--app'",
            ) from exc
        raise Failure(f"cannot import {module} ({source}): {reason}; {_RUN_FROM_APP}") from exc
    except Exception as exc:
        raise Failure(
            f"importing {module} ({source}) failed: {type(exc).__name__}: {exc} (run with"
            " --debug for the traceback)"
        ) from exc


# -- the message -------------------------------------------------------------------------------


def _accepted_type(cls: type[Actor[Any]], record: ActorRecord, name: str) -> type[Message]:
    """The message type named `name` (its tag, or its class name if only one has it)."""
    accepted = list(handlers_of(cls))
    for message_type in accepted:
        if _tag(message_type) == name:
            return message_type
    named = [t for t in accepted if name in (t.__name__, t.__qualname__)]
    if len(named) == 1:
        return named[0]
    tags = ", ".join(sorted(_tag(t) for t in accepted)) or "none"
    if named:
        raise Failure(
            f"{name!r} names {len(named)} message types that actor {record.name!r} accepts;"
            f" give one of their tags: {', '.join(sorted(_tag(t) for t in named))}"
        )
    raise Failure(
        f"actor {record.name!r} ({cls.__qualname__}) accepts no message type {name!r}; it"
        f" accepts: {tags}"
    )


def _body(argument: str) -> bytes:
    """The JSON bytes the argument gives: itself, stdin for ``-``, the file for ``@PATH``.

    Raises `click.BadParameter` (exit 2) for a file that cannot be read or a body over
    `MAX_BODY_BYTES`.
    """
    data: bytes
    if argument == "-":
        where = "stdin"
        data = sys.stdin.buffer.read(MAX_BODY_BYTES + 1)
    elif argument.startswith("@"):
        where = argument[1:]
        try:
            with open(where, "rb") as file:
                data = file.read(MAX_BODY_BYTES + 1)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise click.BadParameter(
                f"cannot read {where!r}: {reason}", param_hint="'JSON'"
            ) from exc
    else:
        where, data = "the argument", argument.encode("utf-8")
    if len(data) > MAX_BODY_BYTES:
        raise click.BadParameter(
            f"the body in {where} is over {MAX_BODY_BYTES:,} bytes (16 MiB), the most a message"
            " sent from the shell may have; put large data in a file the message names",
            param_hint="'JSON'",
        )
    return data


def _decode(message_type: type[Message], data: bytes) -> Message:
    """Decode the JSON body into `message_type`; bad JSON is a bad command line (exit 2)."""
    tag = _tag(message_type)
    try:
        message: Message = msgspec.json.decode(data, type=message_type)
    except msgspec.ValidationError as exc:
        raise click.BadParameter(
            f"does not fit {tag} ({_fields(message_type)}): {exc}", param_hint="'JSON'"
        ) from exc
    except msgspec.DecodeError as exc:
        raise click.BadParameter(f"is not JSON: {exc}", param_hint="'JSON'") from exc
    except RecursionError:
        raise click.BadParameter("is nested too deeply", param_hint="'JSON'") from None
    except Exception as exc:  # the type's own __post_init__ refused it
        raise Failure(f"{tag} refused the JSON: {type(exc).__name__}: {exc}") from exc
    return message


def _fields(message_type: type[Message]) -> str:
    """The fields a JSON object of `message_type` has: ``{"text": str, "n": int = 0}``."""
    try:
        fields = msgspec.structs.fields(message_type)
    except Exception:  # an annotation that does not resolve: say nothing rather than fail
        return "an object"
    if not fields:
        return "an object with no fields: {}"
    parts = []
    for f in fields:
        kind = f.type.__name__ if isinstance(f.type, type) else str(f.type)
        kind = kind.replace("typing.", "")
        default = "" if f.required else " (optional)"
        parts.append(f'"{f.encode_name}": {kind}{default}')
    return "an object {" + ", ".join(parts) + "}"


def _tag(message_type: type[Message]) -> str:
    return str(message_type.__struct_config__.tag)
