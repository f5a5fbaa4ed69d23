"""Canonical `chat.completion.chunk`s re-encoded as Anthropic Messages SSE events.

Anthropic's stream is block-structured (message_start, then content_block_start / _delta /
_stop per block, then message_delta with the stop reason and usage, then message_stop), while
OpenAI's is a flat list of deltas, so the writer tracks which block is open: text, thinking, or
one tool_use block per OpenAI tool-call index. Usage is only known at the end; it goes in the
final message_delta (input tokens included, as Anthropic's SDK accumulates them from there).
"""

from __future__ import annotations

from typing import Any

import orjson

from routing.types import Usage

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
                "content_filter": "refusal", "error": "end_turn"}


def stop_reason_for(finish_reason: str | None) -> str:
    return STOP_REASONS.get(finish_reason or "stop", "end_turn")


def anthropic_usage(usage: Usage, *, cost_usd: float | None = None,
                    is_byok: bool = False) -> dict[str, Any]:
    """Anthropic counts `input_tokens` without the cached ones; OpenAI's total includes them."""
    uncached = max(0, usage.prompt_tokens - usage.cache_read_tokens - usage.cache_write_tokens)
    out: dict[str, Any] = {
        "input_tokens": uncached,
        "output_tokens": usage.completion_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "cache_creation": None,
        "inference_geo": None,
        "output_tokens_details": {"thinking_tokens": usage.reasoning_tokens},
        "server_tool_use": None,
        "service_tier": "standard",
        "is_byok": is_byok,
    }
    if cost_usd is not None:
        out["cost"] = cost_usd
    return out


def encode_event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class AnthropicStreamWriter:
    """Feed canonical chunks with `chunk()`, end with `finish()`; both return SSE bytes."""

    def __init__(self, message_id: str, model: str) -> None:
        self.message_id = message_id
        self.model = model
        self._started = False
        self._block: int = -1  # index of the open block, -1 when none is open
        self._kind: str | None = None  # "text" | "thinking" | "tool_use"
        self._tools: dict[int, int] = {}  # OpenAI tool-call index -> block index
        self._open_tool: int | None = None
        self._finish_reason: str | None = None

    def _start(self) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        return [encode_event("message_start", {"type": "message_start", "message": {
            "id": self.message_id, "type": "message", "role": "assistant", "content": [],
            "model": self.model, "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0}}})]

    def _close_block(self) -> list[bytes]:
        if self._kind is None:
            return []
        self._kind, self._open_tool = None, None
        return [encode_event("content_block_stop",
                             {"type": "content_block_stop", "index": self._block})]

    def _open(self, kind: str, block: dict[str, Any]) -> list[bytes]:
        out = self._close_block()
        self._block += 1
        self._kind = kind
        out.append(encode_event("content_block_start", {
            "type": "content_block_start", "index": self._block, "content_block": block}))
        return out

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return encode_event("content_block_delta", {
            "type": "content_block_delta", "index": self._block, "delta": delta})

    def chunk(self, chunk: dict[str, Any]) -> bytes:
        out = self._start()
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("reasoning"):
                if self._kind != "thinking":
                    out += self._open("thinking", {"type": "thinking", "thinking": "",
                                                   "signature": ""})
                out.append(self._delta({"type": "thinking_delta",
                                        "thinking": delta["reasoning"]}))
            if delta.get("content"):
                if self._kind != "text":
                    out += self._open("text", {"type": "text", "text": ""})
                out.append(self._delta({"type": "text_delta", "text": delta["content"]}))
            for call in delta.get("tool_calls") or ():
                out += self._tool_delta(call)
            if choice.get("finish_reason"):
                self._finish_reason = choice["finish_reason"]
        return b"".join(out)

    def _tool_delta(self, call: dict[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        index = call.get("index", 0)
        function = call.get("function") or {}
        if index not in self._tools:
            out += self._open("tool_use", {"type": "tool_use", "id": call.get("id", ""),
                                           "name": function.get("name", ""), "input": {}})
            self._tools[index] = self._block
            self._open_tool = index
        elif self._open_tool != index:
            return out  # Anthropic cannot interleave blocks; late fragments are dropped
        if function.get("arguments"):
            out.append(self._delta({"type": "input_json_delta",
                                    "partial_json": function["arguments"]}))
        return out

    def finish(self, usage: Usage | None, finish_reason: str | None = None, *,
               error: str | None = None) -> bytes:
        """Close the stream: message_delta + message_stop, or an `error` event."""
        out = self._start() + self._close_block()
        if error is not None:
            out.append(encode_event("error", {"type": "error", "error": {
                "type": "api_error", "message": error}}))
            return b"".join(out)
        usage = usage or Usage()
        reason = stop_reason_for(finish_reason or self._finish_reason)
        out.append(encode_event("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": None},
            "usage": {k: v for k, v in anthropic_usage(usage).items()
                      if k in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                               "cache_read_input_tokens")}}))
        out.append(encode_event("message_stop", {"type": "message_stop"}))
        return b"".join(out)
