"""A tool's arguments are checked before anything is sent (T1's bad input). The compiled check
of a plain object schema must answer exactly as jsonschema does, since jsonschema words the
refusal: a property-based test over schemas of that shape and arbitrary arguments."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from actorflow.mcp._arguments import ArgumentCheck

TYPES = ["array", "boolean", "integer", "null", "number", "object", "string"]
NAMES = st.sampled_from(["a", "b", "c"])

types = st.sampled_from(TYPES)
property_schemas = st.one_of(
    types.map(lambda kind: {"type": kind}),
    types.map(lambda kind: {"type": kind, "title": kind.title(), "default": None}),
    st.lists(types, max_size=3, unique=True).map(lambda kinds: {"type": kinds}),
    st.booleans(),
    st.fixed_dictionaries({}, optional={"description": st.text(max_size=5)}),
)
object_schemas = st.fixed_dictionaries(
    {"type": st.just("object")},
    optional={
        "properties": st.dictionaries(NAMES, property_schemas, max_size=4),
        "required": st.lists(NAMES, max_size=3, unique=True),
        "additionalProperties": st.booleans(),
        "title": st.text(max_size=5),
    },
)
EDGES: list[Any] = [
    # The values the type rules tell apart: bools are no numbers, 1.0 is an integer, a Decimal
    # or a Fraction is a number, a tuple is not a JSON array, and so on.
    *(None, True, False, 0, 1, -3, 1.0, -0.0, 2.5, math.inf, -math.inf, 10.0**20),
    *(Decimal("2.5"), Decimal(3), Fraction(1, 3), "", "1", (), [], [1], {}, {"a": 1}, b"x"),
]
scalars = st.one_of(
    st.sampled_from(EDGES),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=4),
)
containers = st.lists(scalars, max_size=2) | st.dictionaries(NAMES, scalars, max_size=2)
values = st.one_of(scalars, scalars, scalars, containers)  # mostly what the type rules judge


@settings(max_examples=1000, deadline=None)
@given(schema=object_schemas, data=st.data())
def test_t1_the_compiled_check_answers_as_jsonschema(schema: dict[str, Any], data: Any) -> None:
    # Mostly arguments named as the schema's properties (each there or not, and one more), so
    # that each type rule meets the values it must tell apart; now and then anything at all.
    named = st.fixed_dictionaries(
        {}, optional=dict.fromkeys([*schema.get("properties", {}), "extra"], values)
    )
    given_arguments = data.draw(named if data.draw(st.integers(0, 9)) else values)
    check = ArgumentCheck(schema)
    assert check.compiled
    expected = jsonschema.validators.validator_for(schema)(schema).is_valid(given_arguments)
    assert check.valid(given_arguments) is expected
    assert (check.problems(given_arguments) == []) is expected


def test_t1_each_type_rule_answers_as_jsonschema() -> None:
    """Every type, alone and in pairs, against every value the rules tell apart."""
    kinds: list[Any] = [*TYPES, *([a, b] for a in TYPES for b in TYPES if a < b), []]
    for kind in kinds:
        schema = {"type": "object", "properties": {"a": {"type": kind}}}
        check = ArgumentCheck(schema)
        assert check.compiled
        validator = jsonschema.validators.validator_for(schema)(schema)
        for value in EDGES:
            assert check.valid({"a": value}) is validator.is_valid({"a": value}), (kind, value)


def test_t1_an_sdk_generated_schema_is_compiled() -> None:
    """What the SDK lists for ``def web_search(query: str)``: the usual shape."""
    schema = {
        "properties": {"query": {"title": "Query", "type": "string"}},
        "required": ["query"],
        "title": "web_searchArguments",
        "type": "object",
    }
    check = ArgumentCheck(schema)
    assert check.compiled
    assert check.valid({"query": "otp"})
    assert not check.valid({"query": 3})
    assert not check.valid({})
    assert [error.message for error in check.problems({})] == ["'query' is a required property"]


def test_t1_other_schemas_are_left_to_jsonschema() -> None:
    """Keywords outside the compiled shape (here a union, a bound, a draft) keep jsonschema's
    answer, which the compiled check could not give."""
    for schema, good, bad in [
        (
            {"type": "object", "properties": {"x": {"anyOf": [{"type": "integer"}]}}},
            {"x": 1},
            {"x": "1"},
        ),
        ({"type": "object", "properties": {"x": {"type": "integer", "minimum": 0}}}, {}, {"x": -1}),
        (
            {
                "$schema": "http://json-schema.org/draft-04/schema#",
                "type": "object",
                "properties": {"x": {"type": "integer"}},
            },
            {"x": 1},
            {"x": 1.0},  # an integer from draft 6 on, not in draft 4
        ),
    ]:
        check = ArgumentCheck(schema)
        assert not check.compiled
        assert check.valid(good)
        assert not check.valid(bad)
