"""A small instance that satisfies a JSON schema, for tool arguments and structured answers.

Covers what tool and response schemas use in practice: ``$ref`` into ``$defs``/``definitions``,
``allOf``/``anyOf``/``oneOf``, ``const``, ``enum``, type lists, objects (every declared property
near the top, only required ones deeper so recursive schemas terminate; arrays likewise hold
one item near the top and only ``minItems`` deeper), arrays (``minItems``,
``maxItems``, ``prefixItems``), string length and common formats, numeric bounds and
``multipleOf``. Gemini's OpenAPI-style upper-case types and ``nullable`` are accepted too.
"""

import math
import re
from typing import Any

# Tried in order when a string has a ``pattern`` (we do not invert regular expressions).
_PATTERN_GUESSES = ["123", "1", "a", "abc", "ABC", "A1", "abc-123", "2025-01-01",
                    "sandbox@example.com", "https://example.com", "+15550100", "0x1f"]
_FULL_DEPTH = 4
_MAX_DEPTH = 12
_FORMATS = {
    "date-time": "2025-01-01T00:00:00Z",
    "date": "2025-01-01",
    "time": "00:00:00Z",
    "email": "sandbox@example.com",
    "uri": "https://example.com/sandbox",
    "url": "https://example.com/sandbox",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "127.0.0.1",
    "hostname": "example.com",
}


def instance_for(schema: Any, root: Any = None, depth: int = 0) -> Any:
    """A value valid against ``schema`` (``root`` resolves ``$ref``)."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None if depth > _MAX_DEPTH else {}
    if "$ref" in schema:
        return instance_for(_resolve(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "allOf" in schema:
        return instance_for(_merge(schema, root), root, depth)
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            options = [_deref(o, root) for o in schema[key]]
            usable = [o for o in options if _type_of(o) != "null"] or options
            return instance_for(usable[0], root, depth + 1)
    kind = _type_of(schema)
    if kind == "object":
        return _object(schema, root, depth)
    if kind == "array":
        return _array(schema, root, depth)
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return {}


def _type_of(schema: object) -> str | None:
    kind = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(kind, list):
        kinds = [str(k).lower() for k in kind]
        kind = next((k for k in kinds if k != "null"), kinds[0] if kinds else None)
    if kind is None and isinstance(schema, dict):
        if "properties" in schema or "required" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
    return str(kind).lower() if kind else None


def _resolve(ref: str, root: Any) -> Any:
    if not ref.startswith("#"):
        return {}
    node = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node


def _deref(schema: Any, root: Any) -> Any:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < _MAX_DEPTH:
        schema, seen = _resolve(schema["$ref"], root), seen + 1
    return schema


def _merge(schema: dict[str, Any], root: Any) -> dict[str, Any]:
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        part = _deref(part, root)
        if "allOf" in part:
            part = _merge(part, root)
        for key, value in part.items():
            if key == "properties":
                merged.setdefault("properties", {}).update(value)
            elif key == "required":
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            else:
                merged.setdefault(key, value)
    return merged


def _object(schema: dict[str, Any], root: Any, depth: int) -> dict[str, Any]:
    props = schema.get("properties") or {}
    required = schema.get("required") or []
    names = list(props) if depth < _FULL_DEPTH else [n for n in props if n in required]
    out = {name: instance_for(props[name], root, depth + 1) for name in names}
    for name in required:
        if name not in out:
            extra = schema.get("additionalProperties")
            out[name] = instance_for(extra, root, depth + 1) if isinstance(extra, dict) else ""
    return out


def _array(schema: dict[str, Any], root: Any, depth: int) -> list[Any]:
    prefix = schema.get("prefixItems") or []
    items = schema.get("items")
    # one item near the top (useful), only the required minimum deeper (recursion ends)
    count = max(int(schema.get("minItems", 0)), len(prefix), 1 if depth < _FULL_DEPTH else 0)
    if "maxItems" in schema:
        count = min(count, int(schema["maxItems"]))
    out = [instance_for(s, root, depth + 1) for s in prefix[:count]]
    while len(out) < count:
        out.append(instance_for(items if isinstance(items, dict) else {}, root, depth + 1))
    return out


def _string(schema: dict[str, Any]) -> str:
    base = _FORMATS.get(str(schema.get("format", "")), "sandbox")
    pattern = schema.get("pattern")
    candidates = [base, *_PATTERN_GUESSES] if pattern else [base]
    for candidate in candidates:
        value = _fit_length(candidate, schema)
        if not pattern or _matches(pattern, value):
            return value
    return _fit_length(base, schema)


def _fit_length(value: str, schema: dict[str, Any]) -> str:
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    if len(value) < low:
        value = value + value[-1:] * (low - len(value)) if value else "x" * low
    if high is not None and len(value) > int(high):
        value = value[: int(high)]
    return value


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return False


def _number(schema: dict[str, Any], integer: bool) -> int | float:
    low = schema.get("minimum")
    if schema.get("exclusiveMinimum") is not None and not isinstance(
        schema["exclusiveMinimum"], bool
    ):
        ex = schema["exclusiveMinimum"]
        low = (math.floor(ex) + 1) if integer else ex + 0.5
    high = schema.get("maximum")
    if schema.get("exclusiveMaximum") is not None and not isinstance(
        schema["exclusiveMaximum"], bool
    ):
        ex = schema["exclusiveMaximum"]
        high = (math.ceil(ex) - 1) if integer else ex - 0.5
    value = low if low is not None else (min(high, 1) if high is not None else 1)
    step = schema.get("multipleOf")
    if step:
        value = math.ceil(value / step) * step
        if high is not None and value > high:
            value = math.floor(high / step) * step
    if integer:
        return int(math.ceil(value))
    return value
