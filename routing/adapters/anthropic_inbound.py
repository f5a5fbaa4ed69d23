"""`POST /v1/messages`: Anthropic Messages requests in, Anthropic Messages answers out.

The gateway routes every request as a canonical (OpenAI-shaped) `ChatRequest`, so an Anthropic
request is parsed into one here, and the canonical answer is rendered back as an Anthropic
Message (`MessagesResult` in OpenRouter's OpenAPI schema) or, when streamed, re-encoded as
Anthropic SSE events by `AnthropicStreamWriter` (anthropic_inbound_stream.py). OpenRouter's
extensions (`provider`, `models`) are left to the caller's own parser of those objects.
"""

from __future__ import annotations

from typing import Any

import orjson

from core.errors import InvalidRequest
from routing.adapters.anthropic_inbound_stream import (
    AnthropicStreamWriter,
    anthropic_usage,
    stop_reason_for,
)
from routing.types import ChatRequest, Usage

__all__ = ["AnthropicStreamWriter", "parse_messages_request", "render_message"]

ROLES = ("user", "assistant")
TOOL_CHOICES = ("auto", "any", "tool", "none")


def _fail(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param)


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _fail(f"`{name}` must be a number between {low} and {high}.", name)
    return value


def _integer(body: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _fail(f"`{name}` is required.", name)
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(f"`{name}` must be a positive integer.", name)
    return value


def _with_cache(part: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
    if "cache_control" in block:
        part["cache_control"] = block["cache_control"]
    return part


def _image(block: dict[str, Any], param: str) -> dict[str, Any]:
    source = block.get("source")
    if not isinstance(source, dict):
        raise _fail("An image block needs a `source` object.", f"{param}.source")
    if source.get("type") == "base64":
        media_type, data = source.get("media_type"), source.get("data")
        if not isinstance(media_type, str) or not isinstance(data, str):
            raise _fail("A base64 image needs `media_type` and `data`.", f"{param}.source")
        url = f"data:{media_type};base64,{data}"
    elif source.get("type") == "url" and isinstance(source.get("url"), str):
        url = source["url"]
    else:
        raise _fail("An image source is `base64` or `url`.", f"{param}.source.type")
    return _with_cache({"type": "image_url", "image_url": {"url": url}}, block)


def _tool_result_text(content: Any, param: str) -> str | list[dict[str, Any]]:
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        parts = []
        for i, block in enumerate(content):
            if not isinstance(block, dict) or block.get("type") not in ("text", "image"):
                raise _fail("Tool results hold text or image blocks.", f"{param}.content[{i}]")
            parts.append({"type": "text", "text": block.get("text", "")}
                         if block["type"] == "text" else _image(block, f"{param}.content[{i}]"))
        return parts
    raise _fail("`content` of a tool result is a string or a list.", f"{param}.content")


def _convert_message(message: Any, index: int, out: list[dict[str, Any]],
                     modalities: set[str]) -> None:
    param = f"messages[{index}]"
    if not isinstance(message, dict):
        raise _fail("Each message is an object.", param)
    role = message.get("role")
    if role not in ROLES:
        raise _fail("`role` is `user` or `assistant`.", f"{param}.role")
    content = message.get("content")
    if isinstance(content, str):
        out.append({"role": role, "content": content})
        return
    if not isinstance(content, list):
        raise _fail("`content` is a string or a list of blocks.", f"{param}.content")
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for i, block in enumerate(content):
        where = f"{param}.content[{i}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            if not isinstance(block.get("text"), str):
                raise _fail("A text block needs `text`.", f"{where}.text")
            parts.append(_with_cache({"type": "text", "text": block["text"]}, block))
        elif kind == "image":
            parts.append(_image(block, where))
            modalities.add("image")
        elif kind == "tool_use" and role == "assistant":
            if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
                raise _fail("A tool_use block needs `id` and `name`.", where)
            calls.append({"id": block["id"], "type": "function",
                          "function": {"name": block["name"],
                                       "arguments": orjson.dumps(block.get("input") or {})
                                       .decode()}})
        elif kind == "tool_result" and role == "user":
            if not isinstance(block.get("tool_use_id"), str):
                raise _fail("A tool_result block needs `tool_use_id`.", f"{where}.tool_use_id")
            out.append({"role": "tool", "tool_call_id": block["tool_use_id"],
                        "content": _tool_result_text(block.get("content"), where)})
        elif kind in ("thinking", "redacted_thinking") and role == "assistant":
            continue  # earlier reasoning is not replayed to other providers
        else:
            raise _fail(f"Unsupported content block type {kind!r} for role {role}.",
                        f"{where}.type")
    if parts or calls:
        message_out: dict[str, Any] = {"role": role, "content": parts or None}
        if calls:
            message_out["tool_calls"] = calls
        out.append(message_out)


def _system(system: Any) -> list[dict[str, Any]]:
    if system is None:
        return []
    if isinstance(system, str):
        return [{"role": "system", "content": system}]
    if isinstance(system, list):
        parts = []
        for i, block in enumerate(system):
            if not isinstance(block, dict) or block.get("type") != "text" \
                    or not isinstance(block.get("text"), str):
                raise _fail("`system` blocks are text blocks.", f"system[{i}]")
            parts.append(_with_cache({"type": "text", "text": block["text"]}, block))
        return [{"role": "system", "content": parts}]
    raise _fail("`system` is a string or a list of text blocks.", "system")


def _tools(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        raise _fail("`tools` is a list.", "tools")
    out = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise _fail("Each tool needs a `name`.", f"tools[{i}].name")
        schema = tool.get("input_schema", {"type": "object"})
        if not isinstance(schema, dict):
            raise _fail("`input_schema` is a JSON Schema object.", f"tools[{i}].input_schema")
        function: dict[str, Any] = {"name": tool["name"], "parameters": schema}
        if tool.get("description"):
            function["description"] = tool["description"]
        out.append(_with_cache({"type": "function", "function": function}, tool))
    return out


def _tool_choice(choice: Any, params: dict[str, Any]) -> None:
    if not isinstance(choice, dict) or choice.get("type") not in TOOL_CHOICES:
        raise _fail("`tool_choice.type` is auto, any, tool or none.", "tool_choice")
    kind = choice["type"]
    if kind == "tool":
        if not isinstance(choice.get("name"), str):
            raise _fail("`tool_choice.name` names the tool.", "tool_choice.name")
        params["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
    else:
        params["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}[kind]
    if choice.get("disable_parallel_tool_use") is True:
        params["parallel_tool_calls"] = False


def parse_messages_request(body: Any) -> ChatRequest:
    """An Anthropic Messages request body as a canonical ChatRequest (400 naming the field)."""
    if not isinstance(body, dict):
        raise _fail("The request body must be a JSON object.", "body")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _fail("`model` is required.", "model")
    max_tokens = _integer(body, "max_tokens", required=True)
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise _fail("`messages` must be a non-empty list.", "messages")
    modalities = {"text"}
    messages = _system(body.get("system"))
    for index, message in enumerate(raw_messages):
        _convert_message(message, index, messages, modalities)
    params: dict[str, Any] = {}
    used = {"max_tokens"}
    for name, low, high in (("temperature", 0.0, 1.0), ("top_p", 0.0, 1.0)):
        value = _number(body, name, low, high)
        if value is not None:
            params[name] = value
            used.add(name)
    top_k = _integer(body, "top_k")
    if top_k is not None:
        params["top_k"] = top_k
        used.add("top_k")
    stops = body.get("stop_sequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise _fail("`stop_sequences` is a list of strings.", "stop_sequences")
        if stops:
            params["stop"] = stops
            used.add("stop")
    if body.get("tools"):
        params["tools"] = _tools(body["tools"])
        used.add("tools")
    if body.get("tool_choice") is not None:
        _tool_choice(body["tool_choice"], params)
        used.add("tool_choice")
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        params["user"] = metadata["user_id"]
    reasoning = _thinking(body.get("thinking"))
    if reasoning:
        used.add("reasoning")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _fail("`stream` is true or false.", "stream")
    models = body.get("models") or []
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise _fail("`models` is a list of model slugs.", "models")
    return ChatRequest(
        model=model, messages=messages, models=list(models), stream=stream,
        max_tokens=max_tokens, params=params, reasoning=reasoning,
        used_parameters=frozenset(used), input_modalities=frozenset(modalities),
        prompt_upper_bytes=len(orjson.dumps([messages, params.get("tools")])),
    )


def _thinking(thinking: Any) -> dict[str, Any] | None:
    if thinking is None:
        return None
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled",
                                                                        "adaptive"):
        raise _fail("`thinking.type` is enabled, disabled or adaptive.", "thinking.type")
    if thinking["type"] == "disabled":
        return None
    if thinking["type"] == "adaptive":
        return {"effort": "medium"}
    budget = _integer(thinking, "budget_tokens", required=True)
    return {"max_tokens": budget}


def render_message(body: dict[str, Any], usage: Usage, *, model: str,
                   cost_usd: float | None = None, is_byok: bool = False) -> dict[str, Any]:
    """A canonical `chat.completion` (plus its Usage) as an Anthropic Message."""
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    content: list[dict[str, Any]] = []
    if message.get("reasoning"):
        content.append({"type": "thinking", "thinking": message["reasoning"], "signature": ""})
    if message.get("content"):
        content.append({"type": "text", "text": message["content"], "citations": None})
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        try:
            tool_input = orjson.loads(function.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            tool_input = {}
        content.append({"type": "tool_use", "id": call.get("id", ""),
                        "name": function.get("name", ""), "input": tool_input,
                        "caller": {"type": "direct"}})
    return {
        "id": body.get("id", ""),
        "type": "message",
        "role": "assistant",
        "container": None,
        "content": content,
        "model": model,
        "stop_reason": stop_reason_for(choice.get("finish_reason")),
        "stop_details": None,
        "stop_sequence": None,
        "usage": anthropic_usage(usage, cost_usd=cost_usd, is_byok=is_byok),
    }
