"""What a served tool's schemas are (T3), checked against what msgspec encodes, in process."""

from __future__ import annotations

from typing import Any

import jsonschema
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import actorflow as af
from actorflow.mcp import tool
from actorflow.mcp._serve_schema import input_schema, output_schema, wraps_reply


class Source(msgspec.Struct, frozen=True):
    url: str
    score: float = 0.0


class Node(msgspec.Struct, frozen=True):
    label: str
    children: list[Node] = []


class Search(af.Message, tag="schemas.Search"):
    query: str
    sources: list[Source] = []
    limit: int | None = None


class Tree(af.Message, tag="schemas.Tree"):
    root: Node


def test_t3_the_input_schema_is_msgspecs_at_the_root_without_the_tag() -> None:
    schema = input_schema(Search)
    original = msgspec.json.schema(Search)
    definition = original["$defs"]["Search"]
    assert schema["type"] == "object"
    assert schema["properties"] == {
        k: v for k, v in definition["properties"].items() if k != "type"
    }
    assert schema["required"] == ["query"]
    assert schema["$defs"] == {"Source": original["$defs"]["Source"]}  # nested types stay


def test_t3_a_recursive_type_keeps_its_definition() -> None:
    schema = output_schema(Node)
    assert schema["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert "Node" in schema["$defs"]


@pytest.mark.parametrize(
    ("reply_type", "wrapped"),
    [(str, True), (list[int], True), (type(None), True), (dict[str, int], False), (Node, False)],
)
def test_t3_replies_that_are_not_objects_are_wrapped(reply_type: Any, wrapped: bool) -> None:
    assert wraps_reply(reply_type) is wrapped
    schema = output_schema(reply_type)
    assert schema["type"] == "object"
    if wrapped:
        assert schema["required"] == ["result"]


json_floats = st.floats(allow_nan=False, allow_infinity=False)  # what JSON can hold
sources = st.builds(Source, url=st.text(), score=json_floats)
searches = st.builds(
    Search,
    query=st.text(),
    sources=st.lists(sources, max_size=3),
    limit=st.none() | st.integers(),
)
nodes = st.recursive(
    st.builds(Node, label=st.text()),
    lambda kids: st.builds(Node, label=st.text(), children=st.lists(kids, max_size=3)),
    max_leaves=8,
)


# jsonschema's validation costs a few ms a case on a busy machine: no deadline.
@settings(deadline=None, max_examples=50)
@given(searches)
def test_t3_every_message_fits_its_input_schema_and_decodes_from_it(message: Search) -> None:
    arguments = msgspec.to_builtins(message)
    del arguments["type"]  # what a client sends: the tool names the type
    jsonschema.validate(arguments, input_schema(Search))
    assert msgspec.json.decode(msgspec.json.encode(arguments), type=Search) == message


@settings(deadline=None, max_examples=50)
@given(nodes)
def test_t3_every_reply_fits_its_output_schema(reply: Node) -> None:
    jsonschema.validate(msgspec.to_builtins(reply), output_schema(Node))


@settings(deadline=None, max_examples=50)
@given(st.lists(st.integers()))
def test_t3_a_wrapped_reply_fits_its_output_schema(reply: list[int]) -> None:
    jsonschema.validate({"result": reply}, output_schema(list[int]))


def test_t3_tool_marks_only_handlers_with_names_mcp_allows() -> None:
    def on_fine(self: Any, msg: Search) -> None: ...

    def helper(self: Any, msg: Search) -> None: ...

    assert tool(on_fine) is on_fine
    with pytest.raises(af.DefinitionError, match="marks a message handler"):
        tool(helper)
    with pytest.raises(af.DefinitionError, match="not allowed by MCP"):
        tool(name="has space")(on_fine)
    with pytest.raises(af.DefinitionError, match="timeout must be"):
        tool(timeout=0)(on_fine)
    with pytest.raises(af.DefinitionError, match="actor cannot be empty"):
        tool(actor="")(on_fine)
