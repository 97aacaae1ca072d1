"""`ArgumentCheck`: a tool's input schema, as a check of the arguments a handler calls it with.

Arguments are checked before anything is sent (T1's bad input: `ToolArgumentsInvalid` names
the server, the tool and what is wrong). jsonschema decides, and words the problems; but its
validator walks the schema anew on every call (~20 us for one string property when the CPU's
caches are warm, several times that right after an MCP call). Most tools' schemas, as the SDKs
generate them from a function's signature, are an object of plainly typed properties, so a
schema of exactly that shape is compiled into a few ``isinstance`` checks that answer as
jsonschema's own 2020-12 validator would (a property-based test holds the two together); any
other schema is left to jsonschema.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any, Final

import jsonschema

__all__ = ["ArgumentCheck"]

Check = Callable[[Any], bool]


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Number)


# The JSON types as jsonschema's 2020-12 type checker tells them apart.
_TYPES: Final[dict[str, Check]] = {
    "array": lambda value: isinstance(value, list),
    "boolean": lambda value: isinstance(value, bool),
    "integer": _is_integer,
    "null": lambda value: value is None,
    "number": _is_number,
    "object": lambda value: isinstance(value, dict),
    "string": lambda value: isinstance(value, str),
}
# Keywords that constrain nothing (annotations) and may appear in a compiled schema.
_ANNOTATIONS: Final = frozenset({"title", "description", "default", "examples"})
_OBJECT_KEYWORDS: Final = frozenset({"type", "properties", "required", "additionalProperties"})


class ArgumentCheck:
    """What a tool's input schema allows: `valid` (fast), `problems` (jsonschema's words)."""

    __slots__ = ("_validator", "compiled", "valid")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._validator = jsonschema.validators.validator_for(schema)(schema)
        compiled = _compile(schema)
        self.compiled = compiled is not None
        """Whether `valid` is the compiled check rather than jsonschema's."""
        self.valid: Check = compiled if compiled is not None else self._validator.is_valid

    def problems(self, arguments: Any) -> list[jsonschema.ValidationError]:
        """Every way `arguments` do not match, by where they are (first: the shallowest)."""
        return sorted(
            self._validator.iter_errors(arguments), key=lambda error: list(error.absolute_path)
        )


def _compile(schema: Mapping[str, Any]) -> Check | None:
    """A check of an object of plainly typed properties, or None for any other schema.

    Only a schema without ``$schema`` is compiled: jsonschema then validates it as draft
    2020-12, whose type rules `_TYPES` follows (older drafts tell integers apart otherwise).
    """
    if not isinstance(schema, dict) or not set(schema) <= _OBJECT_KEYWORDS | _ANNOTATIONS:
        return None
    if schema.get("type") != "object":
        return None
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    extra = schema.get("additionalProperties", True)
    if not isinstance(properties, dict) or not isinstance(extra, bool):
        return None
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        return None
    checks: dict[str, Check] = {}
    for name, prop in properties.items():
        check = _compile_property(prop)
        if check is None:
            return None
        checks[name] = check
    names = tuple(required)

    def valid(arguments: Any) -> bool:
        if not isinstance(arguments, dict):
            return False
        for name in names:
            if name not in arguments:
                return False
        for name, value in arguments.items():
            check = checks.get(name)
            if check is None:
                if not extra:
                    return False
            elif not check(value):
                return False
        return True

    return valid


def _compile_property(schema: Any) -> Check | None:
    """A check of one property whose schema is a boolean, or at most a type (or types)."""
    if schema is True:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, dict) or not set(schema) <= {"type"} | _ANNOTATIONS:
        return None
    if "type" not in schema:
        return lambda value: True
    kind = schema["type"]
    if isinstance(kind, str):
        return _TYPES.get(kind)
    if not isinstance(kind, list) or not all(isinstance(k, str) and k in _TYPES for k in kind):
        return None
    checks = tuple(_TYPES[k] for k in kind)
    return lambda value: any(check(value) for check in checks)
