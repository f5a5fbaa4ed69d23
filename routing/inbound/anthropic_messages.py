"""`POST /v1/messages`: Anthropic Messages requests in, Anthropic Messages answers out.

The gateway routes every request as a canonical (OpenAI-shaped) `ChatRequest`, so an Anthropic
request is parsed into one here, and the canonical answer is rendered back as an Anthropic
Message (`MessagesResult` in OpenRouter's OpenAPI schema) or, when streamed, re-encoded as
Anthropic SSE events by `AnthropicStreamWriter` (anthropic_stream.py). Fields are checked by the
validators /v1/chat/completions uses, and the prompt is measured on the converted messages by
the same rule (prompt_size.py), so one conversation holds the same on both routes.
OpenRouter's extensions (`provider`, `models`) are left to the caller's own parser of those
objects.
"""

from __future__ import annotations

from typing import Any

import orjson

from routing.inbound.anthropic_stream import (
    AnthropicStreamWriter,
    anthropic_usage,
    stop_reason_for,
)
from routing.inbound.prompt_size import measure_prompt
from routing.inbound.validators import (
    MAX_TOKENS_CEILING,
    bad,
    integer,
    message_list,
    model_id,
    number,
    str_list,
    stream_flag,
)
from routing.types import ChatRequest, Usage

__all__ = ["AnthropicStreamWriter", "parse_messages_request", "render_message"]

ROLES = ("user", "assistant")
TOOL_CHOICES = ("auto", "any", "tool", "none")
TOP_K_MAX = 1_000_000


def _with_cache(part: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
    if "cache_control" in block:
        part["cache_control"] = block["cache_control"]
    return part


def _image(block: dict[str, Any], param: str) -> dict[str, Any]:
    source = block.get("source")
    if not isinstance(source, dict):
        raise bad(f"{param}.source", "an image source object")
    if source.get("type") == "base64":
        media_type, data = source.get("media_type"), source.get("data")
        if not isinstance(media_type, str) or not isinstance(data, str):
            raise bad(f"{param}.source", "a base64 source with `media_type` and `data`")
        url = f"data:{media_type};base64,{data}"
    elif source.get("type") == "url" and isinstance(source.get("url"), str):
        url = source["url"]
    else:
        raise bad(f"{param}.source.type", "'base64' or 'url' (with a `url`)")
    return _with_cache({"type": "image_url", "image_url": {"url": url}}, block)


def _tool_result_content(content: Any, param: str) -> str | list[dict[str, Any]]:
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        parts = []
        for i, block in enumerate(content):
            if not isinstance(block, dict) or block.get("type") not in ("text", "image"):
                raise bad(f"{param}.content[{i}]", "a text or image block")
            if block["type"] == "image":
                parts.append(_image(block, f"{param}.content[{i}]"))
            elif isinstance(block.get("text", ""), str):
                parts.append({"type": "text", "text": block.get("text", "")})
            else:
                raise bad(f"{param}.content[{i}].text", "a string")
        return parts
    raise bad(f"{param}.content", "a string or a list of blocks")


def _convert_message(message: Any, index: int, out: list[dict[str, Any]]) -> None:
    param = f"messages[{index}]"
    if not isinstance(message, dict):
        raise bad(param, "an object")
    role = message.get("role")
    if role not in ROLES:
        raise bad(f"{param}.role", "'user' or 'assistant'")
    content = message.get("content")
    if isinstance(content, str):
        out.append({"role": role, "content": content})
        return
    if not isinstance(content, list):
        raise bad(f"{param}.content", "a string or a list of blocks")
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for i, block in enumerate(content):
        where = f"{param}.content[{i}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            if not isinstance(block.get("text"), str):
                raise bad(f"{where}.text", "a string")
            parts.append(_with_cache({"type": "text", "text": block["text"]}, block))
        elif kind == "image":
            parts.append(_image(block, where))
        elif kind == "tool_use" and role == "assistant":
            if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
                raise bad(where, "a tool_use block with a string `id` and `name`")
            calls.append({"id": block["id"], "type": "function",
                          "function": {"name": block["name"],
                                       "arguments": orjson.dumps(block.get("input") or {})
                                       .decode()}})
        elif kind == "tool_result" and role == "user":
            if not isinstance(block.get("tool_use_id"), str):
                raise bad(f"{where}.tool_use_id", "a string")
            out.append({"role": "tool", "tool_call_id": block["tool_use_id"],
                        "content": _tool_result_content(block.get("content"), where)})
        elif kind in ("thinking", "redacted_thinking") and role == "assistant":
            continue  # earlier reasoning is not replayed to other providers
        else:
            raise bad(f"{where}.type", f"a content block type {role} messages take, "
                                       f"not {kind!r}")
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
                raise bad(f"system[{i}]", "a text block")
            parts.append(_with_cache({"type": "text", "text": block["text"]}, block))
        return [{"role": "system", "content": parts}]
    raise bad("system", "a string or a list of text blocks")


def _tools(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        raise bad("tools", "a list of tools")
    out = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise bad(f"tools[{i}].name", "a string")
        schema = tool.get("input_schema", {"type": "object"})
        if not isinstance(schema, dict):
            raise bad(f"tools[{i}].input_schema", "a JSON schema object")
        function: dict[str, Any] = {"name": tool["name"], "parameters": schema}
        if tool.get("description"):
            function["description"] = tool["description"]
        out.append(_with_cache({"type": "function", "function": function}, tool))
    return out


def _tool_choice(choice: Any, params: dict[str, Any]) -> None:
    if not isinstance(choice, dict) or choice.get("type") not in TOOL_CHOICES:
        raise bad("tool_choice", "an object with type auto, any, tool or none")
    kind = choice["type"]
    if kind == "tool":
        if not isinstance(choice.get("name"), str):
            raise bad("tool_choice.name", "the name of a tool")
        params["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
    else:
        params["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}[kind]
    if choice.get("disable_parallel_tool_use") is True:
        params["parallel_tool_calls"] = False


def parse_messages_request(body: Any) -> ChatRequest:
    """An Anthropic Messages request body as a canonical ChatRequest (400 naming the field)."""
    if not isinstance(body, dict):
        raise bad("body", "a JSON object")
    model = model_id(body.get("model"))
    max_tokens = integer(body, "max_tokens", 1, MAX_TOKENS_CEILING)
    raw_messages = message_list(body.get("messages"))
    messages = _system(body.get("system"))
    for index, message in enumerate(raw_messages):
        _convert_message(message, index, messages)
    params: dict[str, Any] = {}
    used = {"max_tokens"}
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            params[name] = number(body, name, 0, 1)
            used.add(name)
    if body.get("top_k") is not None:
        params["top_k"] = integer(body, "top_k", 0, TOP_K_MAX)
        used.add("top_k")
    stops = body.get("stop_sequences")
    if stops is not None and str_list(stops, "stop_sequences"):
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
    stream = stream_flag(body)
    models = str_list(body["models"], "models") if body.get("models") is not None else []
    prompt_bytes, modalities = measure_prompt(messages, params)
    return ChatRequest(
        model=model, messages=messages, models=list(models), stream=stream,
        max_tokens=max_tokens, params=params, reasoning=reasoning,
        used_parameters=frozenset(used), input_modalities=modalities,
        prompt_upper_bytes=prompt_bytes,
    )


def _thinking(thinking: Any) -> dict[str, Any] | None:
    if thinking is None:
        return None
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled",
                                                                        "adaptive"):
        raise bad("thinking.type", "'enabled', 'disabled' or 'adaptive'")
    if thinking["type"] == "disabled":
        return None
    if thinking["type"] == "adaptive":
        return {"effort": "medium"}
    return {"max_tokens": integer(thinking, "budget_tokens", 1, MAX_TOKENS_CEILING)}


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
