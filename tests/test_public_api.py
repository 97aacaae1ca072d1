"""The public surface: `__all__` is what is exported, from the public module (STYLE)."""

from __future__ import annotations

import importlib.resources
import subprocess
import sys
import types

import actorflow
import actorflow.testing


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(actorflow).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(actorflow.__all__) == public
    assert len(actorflow.__all__) == len(set(actorflow.__all__))


def test_exported_classes_and_functions_report_the_public_module() -> None:
    for name in actorflow.__all__:
        value = getattr(actorflow, name)
        if isinstance(value, (type, types.FunctionType)):
            assert value.__module__ == "actorflow", name


def test_testing_module_all_is_exported() -> None:
    for name in actorflow.testing.__all__:
        assert hasattr(actorflow.testing, name)


def test_py_typed_ships() -> None:
    assert importlib.resources.files("actorflow").joinpath("py.typed").is_file()


def test_every_error_derives_from_the_root_and_says_when_it_is_raised() -> None:
    for name in actorflow.__all__:
        value = getattr(actorflow, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, actorflow.ActorflowError), name
            assert (value.__doc__ or "").startswith("Raised"), name


def test_ask_timeout_is_a_timeout_error() -> None:
    assert issubclass(actorflow.AskTimeout, TimeoutError)


def test_mcp_exports_report_the_public_module() -> None:
    """actorflow.mcp (T1) is its own public door: `__all__`, each class from `actorflow.mcp`."""
    import actorflow.mcp

    for name in actorflow.mcp.__all__:  # the SDK's part is imported when first named
        getattr(actorflow.mcp, name)
    public = {
        name
        for name, value in vars(actorflow.mcp).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(actorflow.mcp.__all__) == public
    for name in actorflow.mcp.__all__:
        value = getattr(actorflow.mcp, name)
        if isinstance(value, type):
            assert value.__module__ == "actorflow.mcp", name
    assert issubclass(actorflow.mcp.MCPError, actorflow.ActorflowError)
    assert issubclass(actorflow.mcp.ToolOutcomeUnknown, actorflow.StepOutcomeUnknown)


def test_t3_handlers_are_marked_as_tools_without_the_mcp_sdk() -> None:
    """An application marks its handlers with `actorflow.mcp.tool` and runs (`actorflow run`)
    without the mcp extra; naming what needs the SDK says which extra to install."""
    program = """
import sys
sys.modules["mcp"] = None  # as if the mcp extra were not installed: `import mcp` fails
import anyio
import actorflow as af
from actorflow.mcp import ToolFailed, tool

class Ask(af.Message, tag="nosdk.Ask"):
    q: str

class Planner(af.Actor[None], kind="nosdk.Planner"):
    @tool
    def on_ask(self, msg: Ask) -> str:
        \"\"\"Answer.\"\"\"
        return msg.q

async def main() -> str:
    async with af.ActorSystem() as system:
        ref = await system.spawn(Planner, name="planner")
        return await ref.ask(Ask("fine"), timeout=10)

print(anyio.run(main))
try:
    from actorflow.mcp import Servers
except ImportError as exc:
    print(exc)
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "fine"
    assert lines[1].startswith("actorflow.mcp.Servers needs the mcp extra")
    assert "pip install 'actorflow[mcp]'" in lines[1]
