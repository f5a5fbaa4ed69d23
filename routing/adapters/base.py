"""What every wire-format adapter shares: the adapter protocol, SSE decoding, error mapping.

An adapter is stateless and built once per process (`routing.adapters.adapter_for`). It turns a
canonical `ChatRequest` into one upstream HTTP request, and the upstream's answers (JSON body,
SSE events, error bodies) back into OpenAI-shaped dicts plus `routing.types.Usage`. Stream
translation keeps per-stream state, so it lives in a `StreamTranslator` made per call.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Any

import orjson

from catalog.snapshot import EndpointView
from routing.adapters.tokens import count_text_tokens
from routing.types import ChatRequest, UpstreamFailure, Usage

# Statuses worth another attempt (same or next endpoint); any other 4xx is the caller's fault.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
RAW_BYTES = 4096  # of an error body, kept for our log
# OpenRouter's ApiErrorType values, and the providers' own error types and codes that map to one.
API_ERROR_TYPES = frozenset({
    "context_length_exceeded", "max_tokens_exceeded", "token_limit_exceeded", "string_too_long",
    "authentication", "permission_denied", "payment_required", "rate_limit_exceeded",
    "provider_overloaded", "provider_unavailable", "invalid_request", "invalid_prompt",
    "not_found", "precondition_failed", "payload_too_large", "unprocessable",
    "content_policy_violation", "refusal", "invalid_image", "image_too_large", "image_too_small",
    "unsupported_image_format", "image_not_found", "image_download_failed", "server", "timeout",
    "unmapped"})
PROVIDER_ERROR_TYPES = {
    "invalid_request_error": "invalid_request", "authentication_error": "authentication",
    "permission_error": "permission_denied", "not_found_error": "not_found",
    "rate_limit_error": "rate_limit_exceeded", "overloaded_error": "provider_overloaded",
    "request_too_large": "payload_too_large", "api_error": "server",
    "invalid_api_key": "authentication", "content_filter": "content_policy_violation",
    "INVALID_ARGUMENT": "invalid_request", "UNAUTHENTICATED": "authentication",
    "PERMISSION_DENIED": "permission_denied", "NOT_FOUND": "not_found",
    "RESOURCE_EXHAUSTED": "rate_limit_exceeded", "UNAVAILABLE": "provider_unavailable",
    "DEADLINE_EXCEEDED": "timeout", "INTERNAL": "server",
}


@dataclass(slots=True)
class UpstreamRequest:
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class ParsedCompletion:
    body: dict[str, Any]  # OpenAI chat.completion, without usage
    usage: Usage | None  # None: the provider reported none (see estimate_completion_usage)
    finish_reason: str


def param_allowed(endpoint: EndpointView, name: str) -> bool:
    """Send a parameter only where the endpoint takes it; an empty set means "not catalogued"."""
    supported = endpoint.supported_parameters
    return not supported or name in supported


def decode_json(data: bytes) -> Any:
    """Parse an upstream body; garbage is a retryable failure (another endpoint may do better)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UpstreamFailure("malformed", f"Malformed JSON from provider: {exc}", True) from exc


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms`, or `Retry-After` (delta seconds or an HTTP date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def error_message(payload: Any, default: str) -> str:
    """The human message inside the usual error envelopes (OpenAI, Anthropic, Gemini)."""
    if isinstance(payload, dict):
        err = payload.get("error", payload)
        message = err.get("message") if isinstance(err, dict) else None
        if isinstance(message, str):
            return message
        if isinstance(err, str):
            return err
    return default


def typed_error(payload: Any) -> str:
    """The ApiErrorType a provider's error envelope names (its code, type or status), or ""."""
    err = payload.get("error", payload) if isinstance(payload, dict) else None
    if not isinstance(err, dict):
        return ""
    for field in ("code", "type", "status"):
        value = err.get(field)
        if isinstance(value, str):
            if value in API_ERROR_TYPES:
                return value
            if value in PROVIDER_ERROR_TYPES:
                return PROVIDER_ERROR_TYPES[value]
    return ""


def in_band_failure(payload: Any, retryable: bool) -> UpstreamFailure:
    """An error event inside a stream, the raw event kept for our log (see failures.report)."""
    err = payload.get("error", payload) if isinstance(payload, dict) else payload
    message = err.get("message") if isinstance(err, dict) else err
    raw = dumps(payload).decode("utf-8", "replace")[:RAW_BYTES]
    return UpstreamFailure("stream_error", str(message or "Provider error.")[:RAW_BYTES],
                           retryable, error_type=typed_error(payload), raw=raw)


def failure_from_status(status: int, headers: Any, data: bytes) -> UpstreamFailure:
    """Translate a non-2xx upstream answer: retryable (408, 429, 5xx) or terminal (other 4xx).

    A redirect is never followed (it could point anywhere, the metadata service included): it is
    the provider failing to answer, so another endpoint is tried.
    """
    if 300 <= status < 400:
        return UpstreamFailure(status, f"The provider answered with a redirect (HTTP {status}), "
                               "which is not followed.", True)
    try:
        payload = orjson.loads(data) if data else None
    except orjson.JSONDecodeError:
        payload = None
    raw = data[:RAW_BYTES].decode("utf-8", "replace")
    message = str(error_message(payload, raw)).strip() or f"HTTP {status}"
    retryable = status in RETRYABLE_STATUSES or status >= 500
    return UpstreamFailure(status, message[:RAW_BYTES], retryable,
                           parse_retry_after(headers), error_type=typed_error(payload), raw=raw)


class SSEDecoder:
    """Incremental `text/event-stream` parser: feed bytes, get (event, data) pairs.

    Only `event:` and `data:` fields matter to us; comments (`: ping`) are skipped. Lines may
    end in LF or CRLF; an event ends at a blank line.
    """

    __slots__ = ("_buffer", "_event", "_data")

    def __init__(self) -> None:
        self._buffer = b""
        self._event: str | None = None
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[tuple[str | None, bytes]]:
        events: list[tuple[str | None, bytes]] = []
        buffer = self._buffer + chunk
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            line = buffer[start:end]
            start = end + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    events.append((self._event, b"\n".join(self._data)))
                self._event, self._data = None, []
            elif line.startswith(b"data:"):
                self._data.append(line[6:] if line[5:6] == b" " else line[5:])
            elif line.startswith(b"event:"):
                self._event = line[6:].strip().decode()
        self._buffer = buffer[start:]
        return events

    def close(self) -> list[tuple[str | None, bytes]]:
        """Flush an event the upstream did not terminate with a blank line."""
        tail = self.feed(b"\n\n") if (self._buffer or self._data) else []
        return tail


class StreamTranslator:
    """Per-stream state: upstream SSE events in, OpenAI chunks out, usage at the end.

    `feed` returns the chunks one event produces (possibly none) and raises UpstreamFailure on
    an in-band error event or malformed data. `done` turns true at the upstream's own end
    marker; a stream that closes before it was cut short.
    """

    def __init__(self, endpoint: EndpointView, request: ChatRequest, completion_id: str,
                 created: int) -> None:
        self.endpoint = endpoint
        self.request = request
        self.completion_id = completion_id
        self.created = created
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.done = False
        self._text_parts: list[str] = []  # what was generated, for metering without usage

    def feed(self, event: str | None, data: bytes) -> list[dict[str, Any]]:
        raise NotImplementedError

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        self._note(delta)
        return {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.endpoint.model_slug,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    def _note(self, delta: dict[str, Any]) -> None:
        for key in ("content", "reasoning"):
            if delta.get(key):
                self._text_parts.append(delta[key])
        for call in delta.get("tool_calls") or ():
            function = call.get("function") or {}
            self._text_parts.append(function.get("name") or "")
            self._text_parts.append(function.get("arguments") or "")

    def final_usage(self) -> Usage:
        """The provider's usage, else a count of what we saw, flagged `estimated`."""
        if self.usage is not None:
            return self.usage
        return Usage(
            prompt_tokens=estimate_prompt_tokens(self.request),
            completion_tokens=count_text_tokens("".join(self._text_parts)),
            estimated=True,
        )


def estimate_completion_usage(request: ChatRequest, body: dict[str, Any]) -> Usage:
    """Usage for an answer that came without any: both sides counted, flagged `estimated`."""
    message = (body.get("choices") or [{}])[0].get("message") or {}
    parts = [message.get("content") or "", message.get("reasoning") or ""]
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        parts += [function.get("name") or "", function.get("arguments") or ""]
    return Usage(prompt_tokens=estimate_prompt_tokens(request),
                 completion_tokens=count_text_tokens("".join(parts)), estimated=True)


def estimate_prompt_tokens(request: ChatRequest) -> int:
    """Tokens in the prompt's text, counted the same way the completion is."""
    parts: list[str] = []
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict))
        for call in message.get("tool_calls") or ():
            parts.append(str((call.get("function") or {}).get("arguments", "")))
    return count_text_tokens("\n".join(parts))


class Adapter:
    """One wire format. Subclasses fill in the four translations."""

    wire_format = ""

    def build_request(self, endpoint: EndpointView, request: ChatRequest, *, max_tokens: int,
                      api_key: str | None, stream: bool) -> UpstreamRequest:
        raise NotImplementedError

    def parse_response(self, endpoint: EndpointView, data: bytes) -> ParsedCompletion:
        raise NotImplementedError

    def translate_error(self, status: int, headers: Any, data: bytes) -> UpstreamFailure:
        return failure_from_status(status, headers, data)

    def stream_translator(self, endpoint: EndpointView, request: ChatRequest,
                          completion_id: str, created: int) -> StreamTranslator:
        raise NotImplementedError


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def parse_data_url(url: str) -> tuple[str, str] | None:
    """`data:image/png;base64,AAAA` -> ("image/png", "AAAA"); None for ordinary URLs."""
    if not url.startswith("data:"):
        return None
    header, _, data = url[5:].partition(",")
    media_type = header.split(";", 1)[0] or "application/octet-stream"
    return media_type, data


def text_of(content: Any) -> str:
    """The text of an OpenAI message content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content
                       if isinstance(p, dict) and p.get("type") == "text")
    return ""


def reasoning_budget(reasoning: dict[str, Any] | None, max_tokens: int) -> int | None:
    """Thinking-token budget from OpenRouter's `reasoning` ({"effort"} or {"max_tokens"}).

    As OpenRouter maps effort for budget-based providers: a share of the output allowance
    (low 20%, medium 50%, high 80%), capped at 32,000 and at least 1,024 (Anthropic's floor);
    None when reasoning is off or the allowance cannot hold the floor plus an answer.
    """
    if not reasoning or reasoning.get("enabled") is False:
        return None
    budget = reasoning.get("max_tokens")
    if budget is None:
        share = EFFORT_SHARE.get(reasoning.get("effort") or "medium")
        if share is None:
            return None
        budget = min(32_000, max_tokens * share // 100)
    budget = max(1024, int(budget))
    if budget >= max_tokens:
        return None
    return budget


EFFORT_SHARE = {"minimal": 10, "low": 20, "medium": 50, "high": 80}
