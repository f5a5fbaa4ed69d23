"""OpenAI-compatible adapter: request out, JSON and streamed answers back, errors."""

import orjson
import pytest

from routing.adapters import adapter_for
from routing.adapters.base import estimate_completion_usage
from routing.sandbox.tokens import count_text
from routing.types import UpstreamFailure, Usage
from tests.routing.builders import chat, endpoint, provider, run_stream

ADAPTER = adapter_for("openai")
GROQ = provider("groq", base_url="https://api.groq.example/openai/v1/")
EP = endpoint("meta/llama-3.3-70b", GROQ, upstream_model_id="llama-3.3-70b-versatile")


def test_request_keeps_openai_fields_strips_cache_hints_and_asks_for_stream_usage():
    request = chat("meta/llama-3.3-70b", messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [
            {"type": "text", "text": "Long context", "cache_control": {"type": "ephemeral"}},
            {"type": "image_url", "image_url": {"url": "https://img.example/cat.png"}},
        ]},
    ], params={"temperature": 0.2, "seed": 7, "stop": ["END"], "user": "u-1",
               "response_format": {"type": "json_object"}, "x_unknown": 1},
        reasoning={"effort": "high"})
    out = ADAPTER.build_request(EP, request, max_tokens=321, api_key="gsk-secret", stream=True)
    assert out.url == "https://api.groq.example/openai/v1/chat/completions"
    assert out.headers == {"content-type": "application/json",
                           "authorization": "Bearer gsk-secret"}
    body = orjson.loads(out.body)
    assert body == {
        "model": "llama-3.3-70b-versatile",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [
                {"type": "text", "text": "Long context"},
                {"type": "image_url", "image_url": {"url": "https://img.example/cat.png"}},
            ]},
        ],
        "temperature": 0.2, "seed": 7, "stop": ["END"], "user": "u-1",
        "response_format": {"type": "json_object"},
        "max_tokens": 321,
        "reasoning_effort": "high",
        "stream": True, "stream_options": {"include_usage": True},
    }
    # The canonical request itself is untouched (the hint is still there for other adapters).
    assert request.messages[1]["content"][0]["cache_control"] == {"type": "ephemeral"}


def test_request_drops_parameters_the_endpoint_does_not_support():
    ep = endpoint("x/y", provider("openai"), supported_parameters=frozenset({"tools", "seed"}))
    request = chat("x/y", params={"temperature": 1.5, "seed": 1}, reasoning={"effort": "low"})
    body = orjson.loads(ADAPTER.build_request(ep, request, max_tokens=10, api_key=None,
                                              stream=False).body)
    assert body == {"model": "y", "messages": request.messages, "seed": 1,
                    "max_completion_tokens": 10}


def test_json_answer_with_cached_and_reasoning_usage():
    wire = {
        "id": "chatcmpl-abc", "object": "chat.completion", "created": 1700000000,
        "model": "llama-3.3-70b-versatile",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": "get_weather",
                                         "arguments": "{\"city\":\"Oslo\"}"}}],
        }}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 90, "total_tokens": 1290,
                  "prompt_tokens_details": {"cached_tokens": 1024},
                  "completion_tokens_details": {"reasoning_tokens": 64}},
    }
    parsed = ADAPTER.parse_response(EP, orjson.dumps(wire))
    assert parsed.usage == Usage(prompt_tokens=1200, completion_tokens=90,
                                 cache_read_tokens=1024, reasoning_tokens=64)
    assert parsed.finish_reason == "tool_calls"
    assert "usage" not in parsed.body
    assert parsed.body["model"] == "meta/llama-3.3-70b"
    assert parsed.body["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == \
        "get_weather"


def test_malformed_json_is_a_retryable_failure():
    with pytest.raises(UpstreamFailure) as caught:
        ADAPTER.parse_response(EP, b'{"choices": [')
    assert caught.value.status == "malformed"
    assert caught.value.retryable is True


STREAM = b"".join([
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n',
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function",'
    b'"function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}\n\n',
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"ci"}}]},'
    b'"finish_reason":null}]}\r\n\r\n',
    b': keep-alive\n\n',
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\\":\\"Oslo\\"}"}}]},'
    b'"finish_reason":null}]}\n\n',
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}\n\n',
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],'
    b'"usage":{"prompt_tokens":50,"completion_tokens":12,"total_tokens":62,'
    b'"prompt_tokens_details":{"cached_tokens":32},'
    b'"completion_tokens_details":{"reasoning_tokens":5}}}\n\n',
    b"data: [DONE]\n\n",
])


@pytest.mark.parametrize("piece", [1, 7, 4096])
def test_stream_with_tool_call_deltas_and_usage(piece):
    translator, chunks = run_stream(ADAPTER, EP, STREAM, piece)
    assert translator.done is True
    assert translator.finish_reason == "tool_calls"
    assert translator.final_usage() == Usage(prompt_tokens=50, completion_tokens=12,
                                             cache_read_tokens=32, reasoning_tokens=5)
    assert len(chunks) == 5  # the usage-only chunk is absorbed, not relayed
    assert {c["id"] for c in chunks} == {"gen-1"}
    assert {c["model"] for c in chunks} == {"meta/llama-3.3-70b"}
    arguments = "".join(
        c["choices"][0]["delta"].get("tool_calls", [{}])[0].get("function", {})
        .get("arguments", "") for c in chunks)
    assert arguments == '{"city":"Oslo"}'
    assert chunks[1]["choices"][0]["delta"]["tool_calls"][0]["id"] == "call_9"


def test_stream_without_usage_is_counted_and_flagged():
    raw = (b'data: {"choices":[{"index":0,"delta":{"content":"Hello, world!"},'
           b'"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
    request = chat(prompt="Say hello to the world")
    translator, chunks = run_stream(ADAPTER, EP, raw, 4096, request)
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["Hello, world!"]
    assert translator.final_usage() == Usage(
        prompt_tokens=count_text("Say hello to the world"),
        completion_tokens=count_text("Hello, world!"), estimated=True)
    assert translator.final_usage().completion_tokens == 4


def test_in_band_error_chunk_raises():
    raw = b'data: {"error":{"message":"overloaded","code":503}}\n\n'
    with pytest.raises(UpstreamFailure) as caught:
        run_stream(ADAPTER, EP, raw, 4096)
    assert caught.value.message == "overloaded"


def test_error_statuses_translate_to_retryable_or_terminal():
    rate = ADAPTER.translate_error(429, {"retry-after": "3"},
                                   b'{"error":{"message":"slow down","type":"rate_limit"}}')
    assert (rate.status, rate.retryable, rate.retry_after_s, rate.message) == \
        (429, True, 3.0, "slow down")
    bad = ADAPTER.translate_error(400, {}, b'{"error":{"message":"bad temperature"}}')
    assert (bad.status, bad.retryable, bad.retry_after_s) == (400, False, None)
    down = ADAPTER.translate_error(503, {"retry-after-ms": "1500"}, b"<html>oops</html>")
    assert (down.retryable, down.retry_after_s, down.message) == (True, 1.5, "<html>oops</html>")
    assert ADAPTER.translate_error(408, {}, b"").retryable is True
    assert ADAPTER.translate_error(422, {}, b"").retryable is False


def test_answer_without_usage_is_estimated_from_both_sides():
    wire = {"id": "x", "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": "Hi, you!"}}]}
    parsed = ADAPTER.parse_response(EP, orjson.dumps(wire))
    assert parsed.usage is None
    request = chat(prompt="Greet me, please")
    assert estimate_completion_usage(request, parsed.body) == Usage(
        prompt_tokens=count_text("Greet me, please"), completion_tokens=count_text("Hi, you!"),
        estimated=True)


def test_reasoning_budget_alone_asks_for_medium_effort():
    ep = endpoint("x/y", provider("xai"))
    body = orjson.loads(ADAPTER.build_request(ep, chat("x/y", reasoning={"max_tokens": 900}),
                                              max_tokens=10, api_key=None, stream=False).body)
    assert body["reasoning_effort"] == "medium"
    off = chat("x/y", reasoning={"effort": "high", "enabled": False})
    assert "reasoning_effort" not in orjson.loads(
        ADAPTER.build_request(ep, off, max_tokens=10, api_key=None, stream=False).body)
