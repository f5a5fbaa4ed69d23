"""The validators both inbound routes share: JSON bodies, typed fields, canonical messages.

A known field of the wrong type or range is an `InvalidRequest` (400) naming the field in
`param`, phrased the same on both routes; each route only wraps it in its own error envelope
(ARCHITECTURE.md, the gateway). The ranges that differ by wire format (temperature is 0-2 for
OpenAI, 0-1 for Anthropic) are the caller's arguments.
"""

from __future__ import annotations

from typing import Any

import orjson

from core.errors import InvalidRequest

# Roles of a canonical (OpenAI-shaped) message; the Anthropic parser only produces a subset.
ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
MAX_TOKENS_CEILING = 1_000_000
# JSON nesting depth we accept. orjson reads up to 1024 levels but writes at most 255, and the
# adapters re-encode the body (a few levels deeper for some wire formats): 128 is ample for any
# real tool schema and keeps every later `orjson.dumps` safe.
MAX_JSON_DEPTH = 128


def bad(field: str, expected: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid value for '{field}': expected {expected}.", param=field)


def number(body: dict[str, Any], field: str, low: float, high: float) -> float:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            low <= value <= high):
        raise bad(field, f"a number between {low:g} and {high:g}")
    return value


def integer(body: dict[str, Any], field: str, low: int, high: int) -> int:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or not (low <= value <= high):
        raise bad(field, f"an integer between {low} and {high}")
    return value


def of_type(body: dict[str, Any], field: str, kind: type | tuple[type, ...], name: str) -> Any:
    value = body.get(field)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise bad(field, name)
    return value


def str_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(field, "a list of strings")
    return value


def model_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise bad("model", "a model id string")
    return value


def message_list(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise bad("messages", "a non-empty list of messages")
    return value


def stream_flag(body: dict[str, Any]) -> bool:
    """`stream`: a boolean, absent or null meaning false."""
    stream = body.get("stream")
    if stream is None:
        return False
    if not isinstance(stream, bool):
        raise bad("stream", "a boolean")
    return stream


def check_messages(messages: list[Any]) -> None:
    """Canonical messages: a known role, and content a string, typed parts, or null.

    Shapes only: what the parts weigh is `routing.inbound.prompt_size`'s business.
    """
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise bad(f"messages[{i}]", "an object")
        role = message.get("role")
        if not isinstance(role, str) or role not in ROLES:  # a list is unhashable: TypeError
            raise bad(f"messages[{i}].role", "one of " + ", ".join(sorted(ROLES)))
        content = message.get("content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                    raise bad(f"messages[{i}].content[{j}]", "a content part with a type")
                if part["type"] == "text" and not isinstance(part.get("text"), str):
                    raise bad(f"messages[{i}].content[{j}].text", "a string")
        elif content is None:
            if role in ("user", "system", "developer"):
                raise bad(f"messages[{i}].content", "a string or a list of parts")
        elif not isinstance(content, str):
            raise bad(f"messages[{i}].content", "a string, a list of parts or null")
        tool_calls = message.get("tool_calls")
        if tool_calls is not None and not isinstance(tool_calls, list):
            raise bad(f"messages[{i}].tool_calls", "a list")


def _too_deep(raw: bytes, body: Any) -> bool:
    # Fast path: fewer brackets than the bound cannot nest beyond it (strings included).
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return False
    stack = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((v, depth + 1) for v in children if isinstance(v, dict | list))
    return False


def load_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400: not JSON, not an object, or nested too deep."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequest("The request body is not valid JSON.", param="body") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.", param="body")
    if _too_deep(raw, body):
        raise InvalidRequest(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.",
                             param="body")
    return body
