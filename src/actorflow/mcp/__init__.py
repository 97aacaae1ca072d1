"""actorflow.mcp: tools over MCP, both ways.

Handlers call tools on MCP servers as recorded steps (T1, T2), and `tool` marks handlers that
``actorflow mcp serve MODULE:FACTORY`` serves as MCP tools (T3). Needs the ``mcp`` extra
(``pip install 'actorflow[mcp]'``), the official MCP Python SDK, for all but marking handlers
and the errors. Declare the servers once, call their tools from handlers::

    servers = mcp.Servers(search=mcp.StdioServer([sys.executable, "search_server.py"]))

    class Researcher(af.Actor):
        async def on_question(self, msg: Question) -> str:
            result = await servers.call(self.ctx, "search", "web_search", {"q": msg.text})
            return result.text

This package sits above actorflow's public API and uses only it (L2).
"""

import importlib as _importlib
import typing as _typing

from ._errors import MCPError as MCPError
from ._errors import ServerUnavailable as ServerUnavailable
from ._errors import ToolArgumentsInvalid as ToolArgumentsInvalid
from ._errors import ToolFailed as ToolFailed
from ._errors import ToolOutcomeUnknown as ToolOutcomeUnknown
from ._errors import ToolResultTooLarge as ToolResultTooLarge
from ._errors import UnknownServer as UnknownServer
from ._errors import UnknownTool as UnknownTool
from ._results import ToolInfo as ToolInfo
from ._results import ToolResult as ToolResult
from ._serve_tool import IDEMPOTENCY_KEY as IDEMPOTENCY_KEY
from ._serve_tool import tool as tool

if _typing.TYPE_CHECKING:
    from ._config import DEFAULT_MAX_RESULT_BYTES as DEFAULT_MAX_RESULT_BYTES
    from ._config import HttpServer as HttpServer
    from ._config import Server as Server
    from ._config import StdioServer as StdioServer
    from ._servers import Servers as Servers

__all__ = [
    # declaring servers
    "Servers",
    "StdioServer",
    "HttpServer",
    "Server",
    "DEFAULT_MAX_RESULT_BYTES",
    "IDEMPOTENCY_KEY",
    # serving actors as tools
    "tool",
    # what calls return
    "ToolResult",
    "ToolInfo",
    # errors
    "MCPError",
    "ServerUnavailable",
    "ToolArgumentsInvalid",
    "ToolFailed",
    "ToolOutcomeUnknown",
    "ToolResultTooLarge",
    "UnknownServer",
    "UnknownTool",
]

# What needs the SDK, imported when first named: an application that marks handlers with
# `tool` imports this package without the mcp extra installed (`actorflow run` needs none of
# it); only declaring or calling servers, and serving, need it.
_NEEDS_SDK = {
    "DEFAULT_MAX_RESULT_BYTES": "._config",
    "HttpServer": "._config",
    "Server": "._config",
    "StdioServer": "._config",
    "Servers": "._servers",
}


def __getattr__(name: str) -> _typing.Any:
    module = _NEEDS_SDK.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(_importlib.import_module(module, __name__), name)
    except ImportError as exc:
        raise ImportError(
            f"actorflow.mcp.{name} needs the mcp extra ({exc}): pip install 'actorflow[mcp]'"
        ) from exc
    if isinstance(value, type):
        value.__module__ = __name__
    globals()[name] = value
    return value


for _name in __all__:
    if _name not in _NEEDS_SDK:
        _obj = globals()[_name]
        if isinstance(_obj, type):
            _obj.__module__ = __name__
del _name, _obj
