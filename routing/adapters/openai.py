"""OpenAI-compatible Chat Completions (OpenAI, Mistral, Groq, Together, DeepInfra, Fireworks,
xAI, DeepSeek, ...): the canonical shape is this wire format, so translation is mostly
filtering what the endpoint accepts and normalising usage."""

from __future__ import annotations

from typing import Any

from catalog.snapshot import EndpointView
from routing.adapters.base import (
    Adapter,
    ParsedCompletion,
    StreamTranslator,
    UpstreamRequest,
    decode_json,
    dumps,
    in_band_failure,
    param_allowed,
)
from routing.types import ChatRequest, UpstreamFailure, Usage

# Request fields passed through as given (when the endpoint supports them). Anything else in
# `params` is an extension we do not forward: unknown fields are ignored (ARCHITECTURE.md,
# "Errors and input").
PASSTHROUGH = (
    "temperature", "top_p", "seed", "stop", "tools", "tool_choice", "parallel_tool_calls",
    "response_format", "user", "frequency_penalty", "presence_penalty", "logit_bias",
    "logprobs", "top_logprobs", "n", "top_k", "min_p", "repetition_penalty", "prediction",
)

# Providers that take `max_completion_tokens` (OpenAI's reasoning models reject `max_tokens`).
MAX_COMPLETION_TOKENS_PROVIDERS = frozenset({"openai", "azure"})


def strip_cache_control(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop Anthropic-style `cache_control` hints, which strict OpenAI-compatible APIs reject.

    OpenAI-compatible providers cache prefixes automatically; the hint only matters to
    Anthropic. Messages without hints are passed through untouched (no copy).
    """
    out = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list) and any(
            isinstance(p, dict) and "cache_control" in p for p in content
        ):
            parts = [
                {k: v for k, v in p.items() if k != "cache_control"} if isinstance(p, dict)
                else p
                for p in content
            ]
            message = {**message, "content": parts}
        out.append(message)
    return out


def usage_from_openai(raw: dict[str, Any] | None) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt_details = raw.get("prompt_tokens_details") or {}
    completion_details = raw.get("completion_tokens_details") or {}
    cached = prompt_details.get("cached_tokens") or raw.get("prompt_cache_hit_tokens") or 0
    return Usage(
        prompt_tokens=int(raw.get("prompt_tokens") or 0),
        completion_tokens=int(raw.get("completion_tokens") or 0),
        cache_read_tokens=int(cached),
        cache_write_tokens=int(prompt_details.get("cache_write_tokens") or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
    )


def _effort(reasoning: dict[str, Any] | None) -> str | None:
    """OpenAI-compatible APIs take an effort level; a bare token budget means "medium"."""
    if not reasoning or reasoning.get("enabled") is False:
        return None
    effort = reasoning.get("effort")
    if effort:
        return str(effort)
    return "medium" if reasoning.get("max_tokens") or reasoning.get("enabled") else None


class OpenAIAdapter(Adapter):
    wire_format = "openai"

    def build_request(self, endpoint: EndpointView, request: ChatRequest, *, max_tokens: int,
                      api_key: str | None, stream: bool) -> UpstreamRequest:
        body: dict[str, Any] = {
            "model": endpoint.upstream_model_id,
            "messages": strip_cache_control(request.messages),
        }
        params = request.params
        for name in PASSTHROUGH:
            if name in params and param_allowed(endpoint, name):
                body[name] = params[name]
        slug = endpoint.provider.slug
        body["max_completion_tokens" if slug in MAX_COMPLETION_TOKENS_PROVIDERS
             else "max_tokens"] = max_tokens
        effort = _effort(request.reasoning)
        if effort and (param_allowed(endpoint, "reasoning")
                       or param_allowed(endpoint, "reasoning_effort")):
            body["reasoning_effort"] = effort
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        headers = {"content-type": "application/json"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        # OpenAI-compatible providers store their SDK base URL, version path included: it is
        # not always /v1 (DeepInfra's is https://api.deepinfra.com/v1/openai).
        url = f"{endpoint.provider.base_url.rstrip('/')}/chat/completions"
        return UpstreamRequest(url, headers, dumps(body))

    def parse_response(self, endpoint: EndpointView, data: bytes) -> ParsedCompletion:
        body = decode_json(data)
        if not isinstance(body, dict) or not isinstance(body.get("choices"), list) \
                or not body["choices"]:
            raise UpstreamFailure("malformed", "Provider answer has no choices.", True)
        usage = usage_from_openai(body.pop("usage", None))
        body["model"] = endpoint.model_slug
        body.setdefault("object", "chat.completion")
        body.setdefault("system_fingerprint", None)
        finish = body["choices"][0].get("finish_reason") or "stop"
        return ParsedCompletion(body, usage, finish)

    def stream_translator(self, endpoint: EndpointView, request: ChatRequest,
                          completion_id: str, created: int) -> StreamTranslator:
        return OpenAIStreamTranslator(endpoint, request, completion_id, created)


class OpenAIStreamTranslator(StreamTranslator):
    """Chunks pass through with our id and model; usage chunks are absorbed into `usage`."""

    def feed(self, event: str | None, data: bytes) -> list[dict[str, Any]]:
        if data == b"[DONE]":
            self.done = True
            return []
        chunk = decode_json(data)
        if not isinstance(chunk, dict):
            raise UpstreamFailure("malformed", "Provider sent a non-object chunk.", True)
        if "error" in chunk:
            raise in_band_failure(chunk, True)
        usage = usage_from_openai(chunk.pop("usage", None))
        if usage is not None:
            self.usage = usage
        choices = chunk.get("choices") or []
        if not choices:
            return []
        chunk["id"] = self.completion_id
        chunk["model"] = self.endpoint.model_slug
        chunk["object"] = "chat.completion.chunk"
        chunk.setdefault("created", self.created)
        for choice in choices:
            delta = choice.get("delta") or {}
            self._note(delta)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return [chunk]
