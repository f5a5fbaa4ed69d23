"""Anthropic Messages wire format: request parsing, JSON and streamed events, errors.

Prompt caching follows Anthropic's explicit rule: only prefixes ending at a block (tool,
system block or message content block) marked ``cache_control`` are written and read.
"""

from typing import Any

from aiohttp import web

from routing.sandbox import tokens
from routing.sandbox.common import Meta, WireError, positive_int, require, sse, tool_segment
from routing.sandbox.engine import Answer, Ask, Segment, Tool, reasoning_tokens_for

ID_PREFIX = "msg_"
CALL_PREFIX = "toolu_"
_STOP = {"stop": "end_turn", "stop_sequence": "stop_sequence", "length": "max_tokens",
         "tool_calls": "tool_use"}
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                429: "rate_limit_error", 529: "overloaded_error"}
MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"]


def check_headers(request: web.Request) -> None:
    require("anthropic-version" in request.headers, "anthropic-version: header is required")


def _block_segment(block: Any) -> Segment:
    if isinstance(block, str):
        return Segment([block])
    require(isinstance(block, dict), "content blocks must be objects", "messages")
    cached = isinstance(block.get("cache_control"), dict)
    kind = block.get("type")
    if kind == "text":
        return Segment([str(block.get("text", ""))], cache_control=cached)
    if kind == "thinking":
        return Segment([str(block.get("thinking", ""))], cache_control=cached)
    if kind == "tool_use":
        texts = [str(block.get("name", "")), tokens.canonical_json(block.get("input", {}))]
        return Segment(texts, cache_control=cached)
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            inner = [_block_segment(b) for b in content]
            texts = [t for s in inner for t in s.texts]
            return Segment(texts, sum(s.media for s in inner), cached)
        return Segment([str(content)], cache_control=cached)
    if kind == "redacted_thinking":
        return Segment([], cache_control=cached)
    return Segment([], 1, cached)


def _text_of(content: str | list[Any]) -> str:
    if isinstance(content, str):
        return content
    return " ".join(str(b.get("text", "")) for b in content
                    if isinstance(b, dict) and b.get("type") == "text")


def parse(body: Any, request: web.Request, match: dict[str, str]) -> Ask:
    check_headers(request)
    require(isinstance(body, dict), "the request body must be a JSON object")
    model, messages = body.get("model"), body.get("messages")
    require(isinstance(model, str) and model != "", "model: Field required", "model")
    require(body.get("max_tokens") is not None, "max_tokens: Field required", "max_tokens")
    limit = positive_int(body.get("max_tokens"), "max_tokens")
    require(isinstance(messages, list) and messages != [], "messages: at least one message is "
            "required", "messages")
    segments: list[Segment] = []
    tools: list[Tool] = []
    for tool in body.get("tools") or []:
        require(isinstance(tool, dict) and isinstance(tool.get("name"), str),
                "tools: each tool needs a name", "tools")
        if "input_schema" in tool:
            tools.append(Tool(tool["name"], tool.get("input_schema") or {}))
        segment = tool_segment(tool["name"], tool.get("description"), tool.get("input_schema"))
        segment.cache_control = isinstance(tool.get("cache_control"), dict)
        segments.append(segment)
    system = body.get("system")
    if system:
        segments += [_block_segment(b) for b in ([system] if isinstance(system, str) else system)]
    last_user = ""
    for message in messages:
        require(isinstance(message, dict) and message.get("role") in ("user", "assistant"),
                "messages: roles must be user or assistant", "messages")
        content = message.get("content", "")
        require(isinstance(content, str | list), "messages: content must be a string or a list",
                "messages")
        segments += [_block_segment(b) for b in ([content] if isinstance(content, str)
                                                 else content)]
        if message["role"] == "user":
            last_user = _text_of(content)
    choice = body.get("tool_choice") if isinstance(body.get("tool_choice"), dict) else {}
    tool_choice = {"none": "none", "tool": choice.get("name")}.get(str(choice.get("type")))
    thinking = body.get("thinking") if isinstance(body.get("thinking"), dict) else {}
    reasoning = 0
    if thinking.get("type") == "enabled":
        reasoning = reasoning_tokens_for(budget=thinking.get("budget_tokens", 1024))
    elif thinking.get("type") == "adaptive":
        reasoning = reasoning_tokens_for("medium")
    stops = body.get("stop_sequences") or []
    # structured outputs: `output_format` (beta) or `output_config.format`
    config = body.get("output_config") if isinstance(body.get("output_config"), dict) else {}
    fmt = body.get("output_format") or config.get("format") or {}
    schema = fmt.get("schema") if isinstance(fmt, dict) and fmt.get("type") == "json_schema" \
        else None
    return Ask(
        model=model, segments=segments, last_user_text=last_user, max_tokens=limit,
        tools=tools, tool_choice=tool_choice, reasoning_tokens=reasoning,
        json_schema=schema if isinstance(schema, dict) else None,
        stop=[s for s in stops if isinstance(s, str)], explicit_cache=True,
        stream=body.get("stream") is True,
    )


def usage(answer: Answer) -> dict[str, Any]:
    fresh = answer.prompt_tokens - answer.cache_read_tokens - answer.cache_write_tokens
    return {
        "input_tokens": fresh,
        "output_tokens": answer.completion_tokens + answer.reasoning_tokens,
        "cache_creation_input_tokens": answer.cache_write_tokens,
        "cache_read_input_tokens": answer.cache_read_tokens,
    }


def _signature(meta: Meta) -> str:
    return "sbx-signature-" + meta["id"]


def _blocks(answer: Answer, meta: Meta) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if answer.reasoning:
        blocks.append({"type": "thinking", "thinking": answer.reasoning,
                       "signature": _signature(meta)})
    if answer.tool_call:
        call = answer.tool_call
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": call.args})
    else:
        blocks.append({"type": "text", "text": answer.text})
    return blocks


def render(ask: Ask, answer: Answer, meta: Meta) -> dict[str, Any]:
    return {
        "id": meta["id"], "type": "message", "role": "assistant", "model": ask.model,
        "content": _blocks(answer, meta), "stop_reason": _STOP[answer.finish],
        "stop_sequence": answer.stop_sequence, "usage": usage(answer),
    }


def stream(ask: Ask, answer: Answer, meta: Meta, body: dict[str, Any]) -> list[bytes]:
    start_usage = {**usage(answer), "output_tokens": 1}
    message: dict[str, Any] = {
        "id": meta["id"], "type": "message", "role": "assistant", "model": ask.model,
        "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}
    frames = [sse({"type": "message_start", "message": message}, "message_start"),
              sse({"type": "ping"}, "ping")]

    def block(index: int, start: dict[str, Any], deltas: list[dict[str, str]]) -> None:
        frames.append(sse({"type": "content_block_start", "index": index,
                           "content_block": start}, "content_block_start"))
        for delta in deltas:
            frames.append(sse({"type": "content_block_delta", "index": index, "delta": delta},
                              "content_block_delta"))
        frames.append(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))

    index = 0
    if answer.reasoning:
        deltas = [{"type": "thinking_delta", "thinking": p}
                  for p in tokens.pieces(answer.reasoning, 4)]
        deltas.append({"type": "signature_delta", "signature": _signature(meta)})
        block(index, {"type": "thinking", "thinking": "", "signature": ""}, deltas)
        index += 1
    if answer.tool_call:
        call = answer.tool_call
        deltas = [{"type": "input_json_delta", "partial_json": p}
                  for p in tokens.pieces(call.arguments, 3)]
        block(index, {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}, deltas)
    else:
        size = max(1, answer.completion_tokens // 256 + 1)
        deltas = [{"type": "text_delta", "text": p} for p in tokens.pieces(answer.text, size)]
        block(index, {"type": "text", "text": ""}, deltas)
    frames.append(sse({"type": "message_delta",
                       "delta": {"stop_reason": _STOP[answer.finish],
                                 "stop_sequence": answer.stop_sequence},
                       "usage": usage(answer)}, "message_delta"))
    frames.append(sse({"type": "message_stop"}, "message_stop"))
    return frames


def error(status: int, message: str, param: str | None = None) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def malformed(streaming: bool) -> bytes:
    if streaming:
        return b'event: message_start\ndata: {"type": "message_start", "message": {"id": \n\n'
    return b'{"id": "msg_broken", "type": "message", "content": [{"type": "text", "te'


def models(request: web.Request) -> dict[str, Any]:
    data = [{"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
            for m in MODELS]
    return {"data": data, "has_more": False, "first_id": MODELS[0], "last_id": MODELS[-1]}


__all__ = ["ID_PREFIX", "CALL_PREFIX", "WireError", "check_headers", "parse", "render", "stream",
           "error", "malformed", "models"]
