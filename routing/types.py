"""The gateway's canonical shapes, shared by the API layer and the adapters.

The canonical request and response are OpenAI Chat Completions shaped (plain dicts inside
small dataclasses): every inbound API (`/v1/chat/completions`, `/v1/messages`) is parsed into a
`ChatRequest`, and every adapter translates a `ChatRequest` to its wire format and its answers
back to OpenAI-shaped completions and chunks. No Django import here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from catalog.snapshot import EndpointView


@dataclass(slots=True)
class ProviderPrefs:
    """OpenRouter's `provider` object, validated."""

    order: list[str] = field(default_factory=list)
    only: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    allow_fallbacks: bool = True
    require_parameters: bool = False
    data_collection: str = "allow"  # "allow" | "deny"
    zdr: bool = False
    quantizations: list[str] = field(default_factory=list)
    sort: str | None = None  # "price" | "throughput" | "latency"
    # Integer nanos per million tokens ("prompt", "completion"), per request or per image.
    max_price: dict[str, int] = field(default_factory=dict)
    preferred_max_latency_s: float | None = None
    preferred_min_throughput: float | None = None


@dataclass(slots=True)
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    models: list[str] = field(default_factory=list)  # fallback models, in order
    stream: bool = False
    max_tokens: int | None = None
    # OpenAI sampling and tool parameters as given (temperature, top_p, seed, stop, tools,
    # tool_choice, parallel_tool_calls, response_format, user, frequency_penalty, ...).
    params: dict[str, Any] = field(default_factory=dict)
    reasoning: dict[str, Any] | None = None  # {"effort": "low"|"medium"|"high", "max_tokens": n}
    provider: ProviderPrefs = field(default_factory=ProviderPrefs)
    max_cost_nanos: int | None = None
    # Parameters the request uses (for require_parameters and capability filtering).
    used_parameters: frozenset[str] = frozenset()
    input_modalities: frozenset[str] = frozenset({"text"})
    prompt_upper_bytes: int = 0


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0  # all input tokens, cached included (as OpenAI reports them)
    completion_tokens: int = 0  # all output tokens, reasoning included
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: bool = False  # counted by us, not reported by the provider


@dataclass(slots=True)
class Attempt:
    endpoint_id: int
    provider: str
    status: int | str  # HTTP status, or "timeout" / "connect_error" / "reset" / "malformed"
    latency_ms: int
    error: str = ""
    byok: bool = False  # made with the org's own key for this provider (BYOK)


@dataclass(slots=True)
class UpstreamFailure(Exception):
    """One failed upstream attempt, translated: retryable (408, 429, 5xx, I/O) or terminal."""

    status: int | str
    message: str  # callers see it once engine.failures.report made it short and redacted
    retryable: bool
    retry_after_s: float | None = None
    error_type: str = ""  # OpenRouter's ApiErrorType when the provider's answer says it
    raw: str = ""  # what the provider sent, for our log only (redacted there)


@dataclass(slots=True)
class Completion:
    """A finished non-streamed answer, OpenAI `chat.completion` shaped (`body` has no usage)."""

    endpoint: EndpointView
    body: dict[str, Any]
    usage: Usage
    finish_reason: str
    attempts: list[Attempt]
    latency_ms: int


@dataclass(slots=True)
class Stream:
    """A streamed answer: OpenAI `chat.completion.chunk` dicts, then `usage` once exhausted.

    `chunks` yields them in lists: the chunks that one upstream read carried, relayed together.

    Only the first chunk has been read from upstream when this is returned, so retries and
    fallbacks happen before any byte reaches the client.
    """

    endpoint: EndpointView
    chunks: AsyncGenerator[list[dict[str, Any]], None]
    attempts: list[Attempt]
    ttft_ms: int
    usage: Usage | None = None  # set when the stream ends
    finish_reason: str | None = None  # "error" if upstream failed after the first byte
    error: UpstreamFailure | None = None

    async def aclose(self) -> None:
        """Stop reading and close the upstream response (call it when the client goes away)."""
        closer = getattr(self.chunks, "aclose", None)
        if closer is not None:
            await closer()
