"""Gemini generateContent adapter: contents/parts out, candidates and usageMetadata back."""

import orjson
import pytest

from routing.adapters import adapter_for
from routing.types import UpstreamFailure, Usage
from tests.routing.builders import chat, endpoint, provider, run_stream

ADAPTER = adapter_for("gemini")
EP = endpoint("google/gemini-2.5-flash",
              provider("google", wire_format="gemini", base_url="https://gen.example"),
              upstream_model_id="gemini-2.5-flash")
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather", "strict": True,
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


def test_request_translation():
    request = chat("google/gemini-2.5-flash", messages=[
        {"role": "system", "content": "Answer in JSON."},
        {"role": "user", "content": [
            {"type": "text", "text": "Weather here?"},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4A"}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_a", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
        {"role": "tool", "tool_call_id": "call_a", "content": "rain"},
    ], params={"tools": [WEATHER], "tool_choice": {"type": "function",
                                                   "function": {"name": "get_weather"}},
               "temperature": 0.1, "top_p": 0.9, "seed": 3, "stop": ["\n\n"],
               "response_format": {"type": "json_schema", "json_schema": {
                   "name": "w", "schema": {"type": "object"}}}},
        reasoning={"effort": "low"})
    out = ADAPTER.build_request(EP, request, max_tokens=8000, api_key="g-key", stream=True)
    assert out.url == ("https://gen.example/v1beta/models/gemini-2.5-flash"
                       ":streamGenerateContent?alt=sse")
    assert out.headers == {"content-type": "application/json", "x-goog-api-key": "g-key"}
    assert orjson.loads(out.body) == {
        "systemInstruction": {"parts": [{"text": "Answer in JSON."}]},
        "contents": [
            {"role": "user", "parts": [
                {"text": "Weather here?"},
                {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4A"}}]},
            {"role": "model", "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"content": "rain"}}}]},
        ],
        "generationConfig": {
            "maxOutputTokens": 8000, "temperature": 0.1, "topP": 0.9, "seed": 3,
            "stopSequences": ["\n\n"], "responseMimeType": "application/json",
            "responseJsonSchema": {"type": "object"},
            "thinkingConfig": {"thinkingBudget": 1600, "includeThoughts": True},
        },
        "tools": [{"functionDeclarations": [{
            "name": "get_weather", "description": "Weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY",
                                                 "allowedFunctionNames": ["get_weather"]}},
    }
    plain = ADAPTER.build_request(EP, chat("google/gemini-2.5-flash"), max_tokens=5,
                                  api_key=None, stream=False)
    assert plain.url == "https://gen.example/v1beta/models/gemini-2.5-flash:generateContent"
    assert "x-goog-api-key" not in plain.headers


def test_answer_with_thoughts_function_call_and_usage():
    wire = {
        "candidates": [{"content": {"role": "model", "parts": [
            {"text": "Considering the city.", "thought": True},
            {"text": "Calling."},
            {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]},
            "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 900, "candidatesTokenCount": 20,
                          "thoughtsTokenCount": 30, "cachedContentTokenCount": 512,
                          "totalTokenCount": 950},
        "responseId": "resp-1",
    }
    parsed = ADAPTER.parse_response(EP, orjson.dumps(wire))
    assert parsed.finish_reason == "tool_calls"
    assert parsed.usage == Usage(prompt_tokens=900, completion_tokens=50,
                                 cache_read_tokens=512, reasoning_tokens=30)
    assert parsed.body["choices"][0]["message"] == {
        "role": "assistant", "content": "Calling.", "reasoning": "Considering the city.",
        "tool_calls": [{"id": "call_0", "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}]}


def test_max_tokens_and_safety_finish_reasons():
    def finish(reason):
        wire = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": reason}]}
        return ADAPTER.parse_response(EP, orjson.dumps(wire)).finish_reason
    assert (finish("MAX_TOKENS"), finish("SAFETY"), finish("STOP")) == \
        ("length", "content_filter", "stop")


def _sse(*payloads):
    return b"".join(b"data: " + orjson.dumps(p) + b"\r\n\r\n" for p in payloads)


STREAM = _sse(
    {"candidates": [{"content": {"role": "model", "parts": [{"text": "The "}]}}],
     "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 1}},
    {"candidates": [{"content": {"role": "model", "parts": [{"text": "weather: "}]}}],
     "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 3}},
    {"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]},
        "finishReason": "STOP"}],
     "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 9,
                       "thoughtsTokenCount": 4, "totalTokenCount": 25}},
)


@pytest.mark.parametrize("piece", [5, 4096])
def test_stream_translation(piece):
    translator, chunks = run_stream(ADAPTER, EP, STREAM, piece)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas == [
        {"role": "assistant", "content": ""}, {"content": "The "}, {"content": "weather: "},
        {"tool_calls": [{"index": 0, "id": "call_gen-1_0", "type": "function",
                         "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}]},
        {},
    ]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert translator.done is True
    assert translator.final_usage() == Usage(prompt_tokens=12, completion_tokens=13,
                                             reasoning_tokens=4)


def test_errors():
    failure = ADAPTER.translate_error(
        429, {"retry-after": "2"},
        b'{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}')
    assert (failure.retryable, failure.retry_after_s, failure.message) == \
        (True, 2.0, "Quota exceeded")
    with pytest.raises(UpstreamFailure) as caught:
        run_stream(ADAPTER, EP, _sse({"error": {"code": 500, "message": "internal"}}), 4096)
    assert caught.value.retryable is True
