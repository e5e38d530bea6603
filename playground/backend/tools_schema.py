"""A tool definition's parameters and the JSON-schema check its arguments must pass.

Used by the router (required parameters raise a tool's score), the argument rules (each
value is checked before it is kept) and ``bench tools``; import ``schema_errors`` from
``tools_router``.
"""

from __future__ import annotations

import re
from typing import Any


def _properties(tool: dict[str, Any]) -> dict[str, Any]:
    params = tool.get("parameters") or {}
    props = params.get("properties") if isinstance(params, dict) else None
    return props if isinstance(props, dict) else {}


def _required(tool: dict[str, Any]) -> list[str]:
    params = tool.get("parameters") or {}
    req = params.get("required") if isinstance(params, dict) else None
    return [r for r in req if isinstance(r, str)] if isinstance(req, list) else []


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def schema_errors(value: Any, schema: Any, where: str = "$") -> list[str]:
    """Problems of ``value`` against the JSON-schema subset tools use (types, required,
    properties, additionalProperties, enum, const, items, numeric and length bounds)."""
    if not isinstance(schema, dict):
        return []
    errors: list[str] = []
    typ = schema.get("type")
    if typ is not None:
        kinds = typ if isinstance(typ, list) else [typ]
        ok = any(
            isinstance(value, _TYPES.get(k, (object,))) and not (k in ("integer", "number") and isinstance(value, bool))
            for k in kinds
        )
        if not ok and "integer" in kinds and isinstance(value, float) and value.is_integer():
            ok = True
        if not ok:
            return [f"{where}: expected {typ}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: must be {schema['const']!r}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 1 << 30):
            errors.append(f"{where}: length out of bounds")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{where}: does not match {schema['pattern']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: above {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for r in schema.get("required") or []:
            if r not in value:
                errors.append(f"{where}: missing {r!r}")
        for k, v in value.items():
            if k in props:
                errors += schema_errors(v, props[k], f"{where}.{k}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unexpected {k!r}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            errors += schema_errors(v, schema["items"], f"{where}[{i}]")
    return errors
