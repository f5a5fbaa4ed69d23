"""The HTTP/1.1 client that calls providers: keep-alive pools per origin, httptools' parser.

Why our own: on one core against a local mock, a provider call through aiohttp's ClientSession
costs ~200 µs of CPU and this client ~65 µs, in a gateway whose whole budget is ~1 ms a request
(ARCHITECTURE.md, "The hot path"). Parsing is httptools' (llhttp, the parser uvicorn uses); what
is ours is the pool, the request framing and flow control. It does what provider calls need and
no more: a method, a URL, headers and a body of bytes in; a response read whole or as it
arrives out. It follows no redirects, keeps no cookies and uses no proxies. Every name is
resolved through `resolve` (routing/engine/guard.py checks each address there), then connected
to by address, so what was checked is what is called.

Failures below HTTP are `HttpClientError`s (OSErrors): `ConnectError` before a byte was sent,
`Disconnected` when the connection ended before the response did, `MalformedResponse`.
"""

from routing.engine.http1.client import HttpClient, Resolve, system_resolve
from routing.engine.http1.errors import (
    ConnectError,
    Disconnected,
    HttpClientError,
    MalformedResponse,
)
from routing.engine.http1.response import Response

__all__ = ["ConnectError", "Disconnected", "HttpClient", "HttpClientError", "MalformedResponse",
           "Resolve", "Response", "system_resolve"]
