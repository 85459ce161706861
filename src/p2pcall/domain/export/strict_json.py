"""Reading a JSON export strictly: no duplicate keys, nothing outside the export's schema.

Python's `json.loads` keeps the last of two members with the same name, so a second `"text"`
slipped in before the real one would be invisible to any check made on the parsed document
(and other readers may keep the first). A p2pcall export never repeats a key and holds only
what `record.schema.json` lists: anything else is reported, with where it is.

The schema file is the single description of the layout (the tests validate every export
against it with `jsonschema`); this module checks the small part of JSON Schema it uses
(type, const, enum, required, properties, additionalProperties, items, $ref, oneOf, pattern,
minimum), so no schema library is needed at run time.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any


class JSONStructureError(ValueError):
    """The text is not a JSON export as p2pcall writes it; the message says where."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise JSONStructureError(
                f"the key {json.dumps(key)} appears twice in one object (a JSON reader keeps "
                "only one of them; p2pcall never writes a key twice)"
            )
        document[key] = value
    return document


def _no_constants(name: str) -> Any:
    raise JSONStructureError(f"{name} is not a JSON value p2pcall writes")


def loads_strict(text: str) -> Any:
    """Parse JSON, refusing duplicate keys and NaN/Infinity; JSONStructureError if not."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except JSONStructureError:
        raise
    except ValueError as exc:
        raise JSONStructureError(
            f"not valid JSON ({type(exc).__name__} at line {getattr(exc, 'lineno', '?')})"
        ) from None
    except RecursionError:  # '[[[[...': an export is never nested more than a few levels
        raise JSONStructureError("nested too deeply to be a p2pcall export") from None


@cache
def export_schema() -> dict[str, Any]:
    source = resources.files("p2pcall.domain.export").joinpath("record.schema.json")
    schema: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return schema


_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/$defs/"):
            raise ValueError(f"unsupported $ref {ref}")
        node = root["$defs"][ref.removeprefix("#/$defs/")]
    return node


def _same_json(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _problem(value: Any, node: dict[str, Any], root: dict[str, Any], where: str) -> str | None:
    node = _resolve(node, root)
    if "oneOf" in node:
        matches = [n for n in node["oneOf"] if _problem(value, n, root, where) is None]
        return None if len(matches) == 1 else f"{where}: not a value the schema allows"
    if "const" in node and not _same_json(value, node["const"]):
        return f"{where}: must be {json.dumps(node['const'])}"
    if "enum" in node and not any(_same_json(value, option) for option in node["enum"]):
        return f"{where}: {json.dumps(value)[:40]} is not one of the allowed values"
    if "type" in node:
        kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
        if not any(_TYPES[kind](value) for kind in kinds):
            return f"{where}: must be {' or '.join(kinds)}"
    if isinstance(value, str) and "pattern" in node and not re.search(node["pattern"], value):
        return f"{where}: {json.dumps(value)[:40]} is not in the expected form"
    if isinstance(value, int) and "minimum" in node and value < node["minimum"]:
        return f"{where}: below {node['minimum']}"
    if isinstance(value, dict):
        return _object_problem(value, node, root, where)
    if isinstance(value, list) and "items" in node:
        for index, item in enumerate(value):
            problem = _problem(item, node["items"], root, f"{where}[{index}]")
            if problem:
                return problem
    return None


def _object_problem(
    value: dict[str, Any], node: dict[str, Any], root: dict[str, Any], where: str
) -> str | None:
    prefix = f"{where}." if where else ""
    properties = node.get("properties", {})
    for key in node.get("required", []):
        if key not in value:
            return f"{prefix}{key}: missing"
    if node.get("additionalProperties") is False:
        for key in value:
            if key not in properties:
                shown = json.dumps(key)[:60]
                return f"{prefix}{shown}: not in the export's schema"
    for key, item in value.items():
        if key in properties:
            problem = _problem(item, properties[key], root, f"{prefix}{key}")
            if problem:
                return problem
    return None


def structure_problem(text: str) -> str | None:
    """Why `text` is not a JSON export as p2pcall writes it, or None when it is one."""
    try:
        document = loads_strict(text)
    except JSONStructureError as exc:
        return str(exc)
    schema = export_schema()
    return _problem(document, schema, schema, "")
