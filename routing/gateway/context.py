"""Per-request context: id, timing and the headers every /v1 answer carries."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from routing.gateway.http import Receive, Scope, Send, header_map

if TYPE_CHECKING:
    from core.errors import SwitchyardError
    from routing.gateway.seams import RequestRow


def new_request_id() -> str:
    """`gen-<unix seconds>-<96 random bits>`, shaped like OpenRouter's generation ids."""
    return f"gen-{int(time.time())}-{os.urandom(12).hex()}"


@dataclass(slots=True)
class RequestContext:
    scope: Scope
    receive: Receive
    send: Send
    headers: dict[bytes, bytes]
    request_id: str = field(default_factory=new_request_id)
    started: float = field(default_factory=time.perf_counter)
    # Time spent waiting on the provider, subtracted from the overhead header.
    upstream_s: float = 0.0
    # An inference request's record (routing/gateway/records.py), and the body to label its
    # task from once the limiter admitted it.
    record: RequestRow | None = None
    label_body: bytes | None = None
    # An error a route answered in its own dialect (Anthropic's), so Gateway.handle never saw it.
    answered_error: SwitchyardError | None = None

    @classmethod
    def from_scope(cls, scope: Scope, receive: Receive, send: Send) -> RequestContext:
        return cls(scope=scope, receive=receive, send=send, headers=header_map(scope))

    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started

    def overhead_ms(self) -> float:
        return max(0.0, (time.perf_counter() - self.started - self.upstream_s) * 1000.0)

    def response_headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-request-id", self.request_id.encode()),
            (b"x-switchyard-overhead-ms", f"{self.overhead_ms():.3f}".encode()),
        ]
