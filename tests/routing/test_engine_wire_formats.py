"""Each wire format end to end through Upstream against the sandbox: text, tools, streams."""

import jsonschema
import orjson
import pytest

from routing.sandbox.engine import DEFAULT_REPLY_TOKENS, reply_text
from routing.sandbox.tokens import count_text
from tests.openrouter_schema import errors
from tests.routing.engine_helpers import (
    PROMPT,
    call_kwargs,
    drain,
    request,
    run,
    sandbox_endpoint,
)

WIRES = ["openai", "anthropic", "gemini"]
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "minLength": 2},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city", "unit"]}}}


def text_of(chunks):
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)


def tool_calls_of(chunks):
    calls = {}
    for chunk in chunks:
        for call in chunk["choices"][0]["delta"].get("tool_calls") or ():
            entry = calls.setdefault(call["index"], {"id": None, "name": "", "arguments": ""})
            entry["id"] = call.get("id") or entry["id"]
            function = call.get("function") or {}
            entry["name"] += function.get("name") or ""
            entry["arguments"] += function.get("arguments") or ""
    return [calls[i] for i in sorted(calls)]


@pytest.mark.parametrize("wire", WIRES)
def test_text_json_and_stream_agree(sandbox, wire):
    ep = sandbox_endpoint(sandbox, f"wf-{wire}", wire_format=wire,
                          upstream_model_id="claude-sonnet-4-5" if wire == "anthropic"
                          else "sandbox-model")

    async def test(upstream):
        done = await upstream.complete(request(), [ep], **call_kwargs())
        stream = await upstream.stream(request(stream=True), [ep], **call_kwargs())
        return done, stream, await drain(stream)
    done, stream, chunks = run(test)
    assert done.body["choices"][0]["message"]["content"] == reply_text(PROMPT)
    assert done.finish_reason == "stop"
    assert done.usage.prompt_tokens == count_text(PROMPT)
    assert done.usage.completion_tokens == DEFAULT_REPLY_TOKENS
    assert text_of(chunks) == reply_text(PROMPT)
    assert chunks[0]["choices"][0]["delta"].get("role") == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert stream.finish_reason == "stop"
    assert stream.usage == done.usage
    assert stream.usage.estimated is False
    assert errors(done.body, "ChatResult") == []
    assert [e for c in chunks for e in errors(c, "ChatStreamChunk")] == []


@pytest.mark.parametrize("wire", WIRES)
def test_tool_calls_json_and_streamed(sandbox, wire):
    ep = sandbox_endpoint(sandbox, f"wt-{wire}", wire_format=wire,
                          upstream_model_id="claude-sonnet-4-5" if wire == "anthropic"
                          else "sandbox-model")
    tools = {"tools": [WEATHER], "tool_choice": "auto"}

    async def test(upstream):
        done = await upstream.complete(request(params=tools), [ep], **call_kwargs())
        stream = await upstream.stream(request(stream=True, params=tools), [ep],
                                       **call_kwargs())
        return done, stream, await drain(stream)
    done, stream, chunks = run(test)
    schema = WEATHER["function"]["parameters"]
    assert done.finish_reason == "tool_calls"
    [call] = done.body["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    jsonschema.validate(orjson.loads(call["function"]["arguments"]), schema)
    [streamed] = tool_calls_of(chunks)
    assert streamed["name"] == "get_weather" and streamed["id"]
    assert orjson.loads(streamed["arguments"]) == orjson.loads(call["function"]["arguments"])
    assert stream.finish_reason == "tool_calls"
    assert stream.usage == done.usage and stream.usage.completion_tokens > 0
    assert errors(done.body, "ChatResult") == []
    assert [e for c in chunks for e in errors(c, "ChatStreamChunk")] == []


@pytest.mark.parametrize("wire", WIRES)
def test_reasoning_is_requested_and_reported(sandbox, wire):
    ep = sandbox_endpoint(sandbox, f"wr-{wire}", wire_format=wire,
                          upstream_model_id="claude-sonnet-4-5" if wire == "anthropic"
                          else "sandbox-model")

    async def test(upstream):
        kwargs = {**call_kwargs(), "max_tokens_for": lambda e: 4096}
        return await upstream.complete(request(reasoning={"effort": "high"}), [ep], **kwargs)
    done = run(test)
    assert done.usage.completion_tokens > DEFAULT_REPLY_TOKENS  # thinking tokens included
    if wire != "anthropic":  # Anthropic folds thinking into output_tokens without a split
        assert done.usage.reasoning_tokens == \
            done.usage.completion_tokens - DEFAULT_REPLY_TOKENS


def test_cache_control_hints_reach_anthropic_and_cached_tokens_come_back(sandbox):
    ep = sandbox_endpoint(sandbox, "wc-anthropic", wire_format="anthropic",
                          upstream_model_id="claude-sonnet-4-5")
    system = "You answer questions about this long manual. " * 40
    messages = [
        {"role": "system", "content": [
            {"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]},
        {"role": "user", "content": PROMPT},
    ]

    async def test(upstream):
        first = await upstream.complete(request(messages=messages), [ep], **call_kwargs())
        second = await upstream.stream(request(stream=True, messages=messages), [ep],
                                       **call_kwargs())
        await drain(second)
        return first.usage, second.usage
    first, second = run(test)
    cached = count_text(system)
    assert (first.cache_write_tokens, first.cache_read_tokens) == (cached, 0)
    assert (second.cache_write_tokens, second.cache_read_tokens) == (0, cached)
    assert first.prompt_tokens == second.prompt_tokens == cached + count_text(PROMPT)
    sent = sandbox.control.requests("wc-anthropic")[0]["body"]
    assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
