"""Anthropic Messages API: canonical (OpenAI-shaped) requests out, Messages answers back.

System messages become `system` blocks, tool calls `tool_use` blocks, tool results
`tool_result` blocks in a user turn, `cache_control` hints stay on their blocks, reasoning
becomes `thinking.budget_tokens`, and `response_format` json_schema becomes
`output_config.format`.
"""

from __future__ import annotations

from typing import Any

import orjson

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
    parse_data_url,
    reasoning_budget,
)
from routing.types import ChatRequest, UpstreamFailure, Usage

ANTHROPIC_VERSION = "2023-06-01"

STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

JSON_OBJECT_INSTRUCTION = "Respond with a single JSON object and nothing else."


def _block(part: dict[str, Any]) -> dict[str, Any] | None:
    kind = part.get("type")
    if kind == "text":
        block: dict[str, Any] = {"type": "text", "text": part.get("text", "")}
    elif kind == "image_url":
        image = part.get("image_url") or {}
        url = image.get("url", "") if isinstance(image, dict) else str(image)
        data = parse_data_url(url)
        source = ({"type": "base64", "media_type": data[0], "data": data[1]} if data
                  else {"type": "url", "url": url})
        block = {"type": "image", "source": source}
    else:
        return None
    if "cache_control" in part:
        block["cache_control"] = part["cache_control"]
    return block


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if isinstance(content, list):
        return [b for b in (_block(p) for p in content if isinstance(p, dict)) if b]
    return []


def _tool_use(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    arguments = function.get("arguments") or "{}"
    try:
        tool_input = orjson.loads(arguments) if isinstance(arguments, str) else arguments
    except orjson.JSONDecodeError:
        tool_input = {}
    return {"type": "tool_use", "id": call.get("id", ""), "name": function.get("name", ""),
            "input": tool_input if isinstance(tool_input, dict) else {}}


def messages_to_anthropic(messages: list[dict[str, Any]]
                          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split OpenAI messages into Anthropic `system` blocks and alternating turns."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            system.extend(_blocks(content))
            continue
        if role == "tool":
            result: dict[str, Any] = {"type": "tool_result",
                                      "tool_use_id": message.get("tool_call_id", ""),
                                      "content": _blocks(content) or ""}
            blocks = [result]
            role = "user"
        else:
            blocks = _blocks(content)
            if role == "assistant":
                blocks.extend(_tool_use(c) for c in message.get("tool_calls") or ())
            role = "assistant" if role == "assistant" else "user"
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)  # Anthropic wants turns to alternate
        else:
            turns.append({"role": role, "content": blocks})
    return system, turns


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    if choice is None and parallel is not False:
        return None
    if choice in (None, "auto"):
        out: dict[str, Any] = {"type": "auto"}
    elif choice == "none":
        return {"type": "none"}
    elif choice == "required":
        out = {"type": "any"}
    elif isinstance(choice, dict):
        out = {"type": "tool", "name": (choice.get("function") or {}).get("name", "")}
    else:
        out = {"type": "auto"}
    if parallel is False:
        out["disable_parallel_tool_use"] = True
    return out


def _tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for tool in tools:
        function = tool.get("function") or {}
        converted = {"name": function.get("name", ""),
                     "input_schema": function.get("parameters") or {"type": "object"}}
        if function.get("description"):
            converted["description"] = function["description"]
        if "cache_control" in tool:
            converted["cache_control"] = tool["cache_control"]
        out.append(converted)
    return out


def usage_from_anthropic(raw: dict[str, Any]) -> Usage:
    """Anthropic counts cached input apart from `input_tokens`; we report OpenAI's total."""
    read = int(raw.get("cache_read_input_tokens") or 0)
    write = int(raw.get("cache_creation_input_tokens") or 0)
    details = raw.get("output_tokens_details") or {}
    return Usage(
        prompt_tokens=int(raw.get("input_tokens") or 0) + read + write,
        completion_tokens=int(raw.get("output_tokens") or 0),
        cache_read_tokens=read,
        cache_write_tokens=write,
        reasoning_tokens=int(details.get("thinking_tokens") or 0),
    )


class AnthropicAdapter(Adapter):
    wire_format = "anthropic"

    def build_request(self, endpoint: EndpointView, request: ChatRequest, *, max_tokens: int,
                      api_key: str | None, stream: bool) -> UpstreamRequest:
        system, turns = messages_to_anthropic(request.messages)
        params = request.params
        body: dict[str, Any] = {"model": endpoint.upstream_model_id, "max_tokens": max_tokens,
                                "messages": turns}
        budget = reasoning_budget(request.reasoning, max_tokens)
        if budget is not None:
            body["thinking"] = {"type": "enabled", "budget_tokens": budget}
        else:  # Anthropic rejects sampling overrides while thinking
            for name in ("temperature", "top_p", "top_k"):
                if name in params and param_allowed(endpoint, name):
                    body[name] = params[name]
        stop = params.get("stop")
        if stop:
            body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        if params.get("tools"):
            body["tools"] = _tools(params["tools"])
            choice = _tool_choice(params.get("tool_choice"), params.get("parallel_tool_calls"))
            if choice is not None:
                body["tool_choice"] = choice
        response_format = params.get("response_format") or {}
        if response_format.get("type") == "json_schema":
            schema = (response_format.get("json_schema") or {}).get("schema") or {}
            body["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
        elif response_format.get("type") == "json_object":
            system.append({"type": "text", "text": JSON_OBJECT_INSTRUCTION})
        if system:
            body["system"] = system
        if params.get("user"):
            body["metadata"] = {"user_id": str(params["user"])}
        if stream:
            body["stream"] = True  # usage always arrives in message_start/message_delta
        headers = {"content-type": "application/json", "anthropic-version": ANTHROPIC_VERSION}
        if api_key:
            headers["x-api-key"] = api_key
        url = f"{endpoint.provider.base_url.rstrip('/')}/v1/messages"
        return UpstreamRequest(url, headers, dumps(body))

    def parse_response(self, endpoint: EndpointView, data: bytes) -> ParsedCompletion:
        raw = decode_json(data)
        if not isinstance(raw, dict) or raw.get("type") == "error" \
                or not isinstance(raw.get("content"), list):
            raise UpstreamFailure("malformed", "Provider answer is not a Message.", True)
        text: list[str] = []
        thinking: list[str] = []
        calls: list[dict[str, Any]] = []
        for block in raw["content"]:
            kind = block.get("type")
            if kind == "text":
                text.append(block.get("text", ""))
            elif kind == "thinking":
                thinking.append(block.get("thinking", ""))
            elif kind == "tool_use":
                calls.append({"id": block.get("id", ""), "type": "function",
                              "function": {"name": block.get("name", ""),
                                           "arguments": dumps(block.get("input", {})).decode()}})
        message: dict[str, Any] = {"role": "assistant",
                                   "content": "".join(text) if text or not calls else None}
        if thinking:
            message["reasoning"] = "".join(thinking)
        if calls:
            message["tool_calls"] = calls
        finish = STOP_REASONS.get(raw.get("stop_reason") or "end_turn", "stop")
        body = {"id": raw.get("id", ""), "object": "chat.completion", "created": 0,
                "model": endpoint.model_slug,
                "system_fingerprint": None,
                "choices": [{"index": 0, "message": message, "finish_reason": finish,
                             "native_finish_reason": raw.get("stop_reason")}]}
        usage = usage_from_anthropic(raw["usage"]) if isinstance(raw.get("usage"), dict) \
            else None
        return ParsedCompletion(body, usage, finish)

    def stream_translator(self, endpoint: EndpointView, request: ChatRequest,
                          completion_id: str, created: int) -> StreamTranslator:
        return AnthropicStreamTranslator(endpoint, request, completion_id, created)


class AnthropicStreamTranslator(StreamTranslator):
    """message_start / content_block_* / message_delta / message_stop to OpenAI chunks."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._tool_index: dict[int, int] = {}  # Anthropic block index -> OpenAI tool index
        self._usage_raw: dict[str, Any] = {}

    def final_usage(self) -> Usage:
        """Cut short before message_delta: message_start's input counts, our output count."""
        if self.usage is None and "input_tokens" in self._usage_raw:
            counted = super().final_usage()
            usage = usage_from_anthropic({**self._usage_raw, "output_tokens": 0})
            usage.completion_tokens = counted.completion_tokens
            usage.estimated = True
            return usage
        return super().final_usage()

    def feed(self, event: str | None, data: bytes) -> list[dict[str, Any]]:
        payload = decode_json(data)
        if not isinstance(payload, dict):
            raise UpstreamFailure("malformed", "Provider sent a non-object event.", True)
        kind = payload.get("type") or event
        if kind == "message_start":
            self._usage_raw.update((payload.get("message") or {}).get("usage") or {})
            return [self.chunk({"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            block = payload.get("content_block") or {}
            if block.get("type") != "tool_use":
                return []
            index = len(self._tool_index)
            self._tool_index[payload.get("index", 0)] = index
            return [self.chunk({"tool_calls": [{
                "index": index, "id": block.get("id", ""), "type": "function",
                "function": {"name": block.get("name", ""), "arguments": ""}}]})]
        if kind == "content_block_delta":
            delta = payload.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                return [self.chunk({"content": delta.get("text", "")})]
            if dtype == "thinking_delta":
                return [self.chunk({"reasoning": delta.get("thinking", "")})]
            if dtype == "input_json_delta":
                index = self._tool_index.get(payload.get("index", 0), 0)
                return [self.chunk({"tool_calls": [{
                    "index": index, "function": {"arguments": delta.get("partial_json", "")}}]})]
            return []
        if kind == "message_delta":
            self._usage_raw.update({k: v for k, v in (payload.get("usage") or {}).items()
                                    if v is not None})
            self.usage = usage_from_anthropic(self._usage_raw)
            reason = (payload.get("delta") or {}).get("stop_reason")
            if reason:
                self.finish_reason = STOP_REASONS.get(reason, "stop")
                return [self.chunk({}, self.finish_reason)]
            return []
        if kind == "message_stop":
            self.done = True
            return []
        if kind == "error":
            err = payload.get("error") or {}
            retryable = err.get("type") in ("overloaded_error", "api_error", "rate_limit_error")
            raise in_band_failure(payload, retryable)
        return []  # ping, content_block_stop, signature deltas
