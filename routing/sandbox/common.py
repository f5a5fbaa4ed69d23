"""Helpers the three wire modules share: request errors, SSE framing, tool segments."""

from typing import TypedDict

import orjson

from routing.sandbox.engine import Segment
from routing.sandbox.tokens import tool_definition_text


class Meta(TypedDict):
    """The ids and timestamp the server gives one answer (server.serve)."""

    id: str
    created: int
    call_id: str


class WireError(Exception):
    """A request the provider would reject, answered in the wire's own error shape."""

    def __init__(self, status: int, message: str, param: str | None = None):
        super().__init__(message)
        self.status, self.message, self.param = status, message, param


def dumps(value: object) -> bytes:
    return orjson.dumps(value)


def sse(data: object, event: str | None = None) -> bytes:
    head = f"event: {event}\n".encode() if event else b""
    body = data if isinstance(data, bytes) else dumps(data)
    return head + b"data: " + body + b"\n\n"


def tool_segment(name: str, description: object, parameters: object) -> Segment:
    """A tool definition counts the tokens of its canonical JSON, the same in every format."""
    return Segment([tool_definition_text(name, description, parameters)])


def require(condition: bool, message: str, param: str | None = None,
            status: int = 400) -> None:
    if not condition:
        raise WireError(status, message, param)


def positive_int(value: object, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise WireError(400, f"{name} must be a positive integer", name)
    return value
