"""Bare ASGI plumbing for the gateway: read a bounded body, send JSON, errors and SSE.

Plain ASGI on purpose: Django's request cycle costs ~1 ms CPU a request, a framework's routing
and middleware stack a good fraction of that, and the gateway's whole budget is ~1 ms.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from core.errors import InvalidRequest, SwitchyardError

# ASGI's shapes (the spec's dicts carry values of many types, keyed by "type").
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON_HEADER = (b"content-type", b"application/json")
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class BodyTooLarge(InvalidRequest):
    """Oversize bodies are a 400 with their own code (OpenRouter answers 400, not 413)."""

    code = "request_too_large"
    message = "The request body is too large."


class ClientDisconnected(Exception):
    """The client went away while we were reading its body."""


async def read_body(receive: Receive, limit_bytes: int) -> bytes:
    """The whole request body, refusing more than `limit_bytes` as soon as it is exceeded."""
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientDisconnected
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):
        if len(body) > limit_bytes:
            raise BodyTooLarge(f"The request body exceeds {limit_bytes} bytes.")
        return body
    parts = [body]
    size = len(body)
    while message.get("more_body"):
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit_bytes:
            raise BodyTooLarge(f"The request body exceeds {limit_bytes} bytes.")
        parts.append(chunk)
    return b"".join(parts)


def header_map(scope: Scope) -> dict[bytes, bytes]:
    """Request headers by lower-case name (ASGI servers already lower-case them)."""
    return dict(scope["headers"])


async def send_json(send: Send, status: int, body: bytes,
                    headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [JSON_HEADER, *headers]})
    await send({"type": "http.response.body", "body": body})


def error_body(error: SwitchyardError) -> bytes:
    return orjson.dumps(error.as_openai())


def error_headers(error: SwitchyardError) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), str(v).encode()) for k, v in error.headers.items()]


async def send_error(send: Send, error: SwitchyardError,
                     headers: list[tuple[bytes, bytes]]) -> None:
    await send_json(send, error.status, error_body(error), [*headers, *error_headers(error)])


SSE_DONE = b"data: [DONE]\n\n"
