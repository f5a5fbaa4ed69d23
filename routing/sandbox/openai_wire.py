"""OpenAI Chat Completions wire format: request parsing, JSON and SSE answers, errors."""

from typing import Any

from aiohttp import web

from routing.sandbox import tokens
from routing.sandbox.common import Meta, WireError, positive_int, require, sse
from routing.sandbox.engine import Answer, Ask, Segment, Tool, ToolCall, reasoning_tokens_for

NAME = "openai"
ID_PREFIX = "chatcmpl-"
CALL_PREFIX = "call_"
_FINISH = {"stop": "stop", "stop_sequence": "stop", "length": "length",
           "tool_calls": "tool_calls"}
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                403: "permission_error", 404: "not_found_error", 429: "rate_limit_error"}
MODELS = ["sandbox-model", "gpt-4o", "gpt-4o-mini", "gpt-4.1-mini", "o4-mini",
          "meta-llama/Llama-3.3-70B-Instruct"]


def _check_content(content: object) -> None:
    require(content is None or isinstance(content, str | list),
            "message content must be a string or a list of parts", "messages")
    for part in content if isinstance(content, list) else []:
        require(isinstance(part, dict), "content parts must be objects", "messages")


def parse(body: Any, request: web.Request, match: dict[str, str]) -> Ask:
    require(isinstance(body, dict), "the request body must be a JSON object")
    model, messages = body.get("model"), body.get("messages")
    require(isinstance(model, str) and model != "", "model is required", "model")
    require(isinstance(messages, list) and messages != [], "messages must be a non-empty list",
            "messages")
    require(isinstance(body.get("tools") or [], list), "tools must be a list", "tools")
    tools: list[Tool] = []
    last_user = ""
    for entry in body.get("tools") or []:
        function = entry.get("function") if isinstance(entry, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise WireError(400, "each tool needs function.name", "tools")
        tools.append(Tool(function["name"], function.get("parameters") or {}))
    for message in messages:
        require(isinstance(message, dict) and isinstance(message.get("role"), str),
                "each message needs a role", "messages")
        _check_content(message.get("content"))
        require(isinstance(message.get("tool_calls") or [], list), "tool_calls must be a list",
                "messages")
        if message["role"] == "user":
            last_user = " ".join(tokens.message_texts(message.get("content"))[0])
    segments = [Segment(texts, media) for texts, media
                in tokens.chat_prompt_segments(messages, body.get("tools"))]
    limit = positive_int(body.get("max_completion_tokens"), "max_completion_tokens")
    if limit is None:
        limit = positive_int(body.get("max_tokens"), "max_tokens")
    choice = body.get("tool_choice")
    tool_choice = None
    if choice == "none":
        tool_choice = "none"
    elif isinstance(choice, dict):
        tool_choice = (choice.get("function") or {}).get("name")
    fmt = body.get("response_format") or {}
    require(isinstance(fmt, dict), "response_format must be an object", "response_format")
    schema = None
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("schema", {}), dict):
            raise WireError(400, "response_format.json_schema.schema must be an object",
                            "response_format")
        schema = spec.get("schema") or {"type": "object"}
    reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else {}
    stop = body.get("stop")
    stop = [stop] if isinstance(stop, str) else list(stop or [])
    return Ask(
        model=model, segments=segments, last_user_text=last_user, max_tokens=limit,
        tools=tools, tool_choice=tool_choice, json_schema=schema,
        json_mode=fmt.get("type") == "json_object",
        reasoning_tokens=reasoning_tokens_for(
            body.get("reasoning_effort") or reasoning.get("effort"), reasoning.get("max_tokens")
        ),
        stop=[s for s in stop if isinstance(s, str)], stream=body.get("stream") is True,
    )


def usage(answer: Answer) -> dict[str, Any]:
    completion = answer.completion_tokens + answer.reasoning_tokens
    return {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": answer.prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": answer.cache_read_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": answer.reasoning_tokens, "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
        },
    }


def _tool_call(call: ToolCall, arguments: str) -> dict[str, Any]:
    return {"id": call.id, "type": "function",
            "function": {"name": call.name, "arguments": arguments}}


def render(ask: Ask, answer: Answer, meta: Meta) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant", "content": answer.text if not answer.tool_call else None,
        "refusal": None}
    if answer.tool_call:
        message["tool_calls"] = [_tool_call(answer.tool_call, answer.tool_call.arguments)]
    return {
        "id": meta["id"], "object": "chat.completion", "created": meta["created"],
        "model": ask.model, "system_fingerprint": "fp_sandbox",
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": _FINISH[answer.finish]}],
        "usage": usage(answer),
    }


def stream(ask: Ask, answer: Answer, meta: Meta, body: dict[str, Any]) -> list[bytes]:
    options = body.get("stream_options")
    options = options if isinstance(options, dict) else {}
    include_usage = options.get("include_usage") is True
    head = {"id": meta["id"], "object": "chat.completion.chunk", "created": meta["created"],
            "model": ask.model, "system_fingerprint": "fp_sandbox"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        out: dict[str, Any] = {**head, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                    "finish_reason": finish}]}
        if include_usage:
            out["usage"] = None
        return sse(out)

    frames = [chunk({"role": "assistant", "content": "" if not answer.tool_call else None})]
    if answer.tool_call:
        start = _tool_call(answer.tool_call, "")
        frames.append(chunk({"tool_calls": [{"index": 0, **start}]}))
        for piece in tokens.pieces(answer.tool_call.arguments, 3):
            frames.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
    else:
        size = max(1, answer.completion_tokens // 256 + 1)
        frames += [chunk({"content": piece}) for piece in tokens.pieces(answer.text, size)]
    frames.append(chunk({}, _FINISH[answer.finish]))
    if include_usage:
        frames.append(sse({**head, "choices": [], "usage": usage(answer)}))
    frames.append(b"data: [DONE]\n\n")
    return frames


def error(status: int, message: str, param: str | None = None) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    code = "rate_limit_exceeded" if status == 429 else None
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def malformed(streaming: bool) -> bytes:
    if streaming:
        return b'data: {"id": "chatcmpl-broken", "choices": [{"delta": {"content": "Sand\n\n'
    return b'{"id": "chatcmpl-broken", "object": "chat.completion", "choices": [{"index": 0,'


def models(request: web.Request) -> dict[str, Any]:
    return {"object": "list", "data": [
        {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "sandbox"}
        for m in MODELS
    ]}


__all__ = ["ID_PREFIX", "CALL_PREFIX", "WireError", "parse", "render", "stream", "error",
           "malformed", "models"]
