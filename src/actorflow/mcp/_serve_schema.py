"""The JSON schemas of a served tool, from msgspec (T3).

MCP wants a tool's input schema (and its output schema, through protocol 2025-11-25) to be an
object schema at the root. ``msgspec.json.schema`` gives a ``$ref`` into ``$defs`` for a
Struct; the schemas here are the same schema with that one reference inlined (its other
``$defs`` kept, for nested types). A message's tag field (``"type"``) is left out of the input:
the tool names the type already, and msgspec decodes a Struct without it.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["input_schema", "output_schema", "wraps_reply"]


def input_schema(message_type: type[msgspec.Struct]) -> dict[str, Any]:
    """The input schema of a tool taking `message_type`: its JSON schema, tag field left out."""
    schema = _object_schema(msgspec.json.schema(message_type))
    if schema is None:  # a Struct is always an object; array_like ones are not
        raise TypeError(f"{message_type.__name__} is not encoded as a JSON object")
    tag_field = message_type.__struct_config__.tag_field
    if tag_field is not None and tag_field in schema.get("properties", {}):
        schema["properties"] = {k: v for k, v in schema["properties"].items() if k != tag_field}
        schema["required"] = [k for k in schema.get("required", []) if k != tag_field]
        if not schema["required"]:
            del schema["required"]
    return schema


def wraps_reply(reply_type: Any) -> bool:
    """Whether a reply of `reply_type` goes into structured content as ``{"result": reply}``
    (it is not a JSON object itself)."""
    return _object_schema(msgspec.json.schema(reply_type)) is None


def output_schema(reply_type: Any) -> dict[str, Any]:
    """The output schema of a tool replying `reply_type`: its JSON schema when that is an
    object, else an object whose ``result`` holds it."""
    schema = msgspec.json.schema(reply_type)
    found = _object_schema(schema)
    if found is not None:
        return found
    defs = schema.pop("$defs", None)
    wrapped: dict[str, Any] = {
        "type": "object",
        "properties": {"result": schema},
        "required": ["result"],
    }
    if defs:
        wrapped["$defs"] = defs
    return wrapped


def _object_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """`schema` with a root ``$ref`` inlined, if it is an object schema; else None."""
    defs: dict[str, Any] = dict(schema.get("$defs", {}))
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and len(schema) <= 2:
        name = ref.removeprefix("#/$defs/")
        root = dict(defs.get(name, {}))
        # Keep the definition where it was too: a recursive type refers to itself.
        if not _refers_to(root, ref) and not any(_refers_to(d, ref) for d in defs.values()):
            defs.pop(name, None)
    else:
        root = {k: v for k, v in schema.items() if k != "$defs"}
    if root.get("type") != "object":
        return None
    if defs:
        root["$defs"] = defs
    return root


def _refers_to(schema: Any, ref: str) -> bool:
    if isinstance(schema, dict):
        return schema.get("$ref") == ref or any(_refers_to(v, ref) for v in schema.values())
    if isinstance(schema, list):
        return any(_refers_to(v, ref) for v in schema)
    return False
