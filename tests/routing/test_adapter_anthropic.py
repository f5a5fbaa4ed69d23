"""Anthropic Messages adapter: canonical requests out, Messages answers and events back."""

import orjson
import pytest

from routing.adapters import adapter_for
from routing.types import UpstreamFailure, Usage
from tests.routing.builders import chat, endpoint, provider, run_stream

ADAPTER = adapter_for("anthropic")
EP = endpoint("anthropic/claude-sonnet-4.5",
              provider("anthropic", wire_format="anthropic", base_url="https://api.anth.example"),
              upstream_model_id="claude-sonnet-4-5")
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


def test_request_translation():
    request = chat("anthropic/claude-sonnet-4.5", messages=[
        {"role": "system", "content": [
            {"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}]},
        {"role": "user", "content": [
            {"type": "text", "text": "What is in this image, and the weather?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0"}},
        ]},
        {"role": "assistant", "content": "Let me check.", "tool_calls": [
            {"id": "toolu_1", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}},
            {"id": "toolu_2", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "rain"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": "sun"},
    ], params={"tools": [WEATHER], "tool_choice": "required", "parallel_tool_calls": False,
               "stop": "END", "temperature": 0.3, "seed": 4, "user": "end-user-7",
               "response_format": {"type": "json_schema", "json_schema": {
                   "name": "w", "schema": {"type": "object"}}}})
    out = ADAPTER.build_request(EP, request, max_tokens=1000, api_key="sk-ant", stream=True)
    assert out.url == "https://api.anth.example/v1/messages"
    assert out.headers == {"content-type": "application/json",
                           "anthropic-version": "2023-06-01", "x-api-key": "sk-ant"}
    assert orjson.loads(out.body) == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1000,
        "system": [{"type": "text", "text": "You are terse.",
                    "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this image, and the weather?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": "iVBORw0"}}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                 "input": {"city": "Oslo"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather",
                 "input": {"city": "Rome"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1",
                 "content": [{"type": "text", "text": "rain"}]},
                {"type": "tool_result", "tool_use_id": "toolu_2",
                 "content": [{"type": "text", "text": "sun"}]}]},
        ],
        "temperature": 0.3,
        "stop_sequences": ["END"],
        "tools": [{"name": "get_weather", "description": "Weather for a city",
                   "input_schema": {"type": "object",
                                    "properties": {"city": {"type": "string"}}}}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
        "metadata": {"user_id": "end-user-7"},
        "stream": True,
    }


def test_reasoning_effort_becomes_a_thinking_budget_and_drops_temperature():
    request = chat("anthropic/claude-sonnet-4.5", params={"temperature": 0.5},
                   reasoning={"effort": "high"})
    body = orjson.loads(ADAPTER.build_request(EP, request, max_tokens=10_000, api_key=None,
                                              stream=False).body)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 8_000}
    assert "temperature" not in body
    small = orjson.loads(ADAPTER.build_request(EP, request, max_tokens=1_000, api_key=None,
                                               stream=False).body)
    assert "thinking" not in small  # 1,024 is Anthropic's floor: no room left for an answer
    explicit = chat("anthropic/claude-sonnet-4.5", reasoning={"max_tokens": 2048})
    assert orjson.loads(ADAPTER.build_request(EP, explicit, max_tokens=4096, api_key=None,
                                              stream=False).body)["thinking"] == \
        {"type": "enabled", "budget_tokens": 2048}


def test_message_answer_with_thinking_tool_use_and_cache_usage():
    wire = {
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "User wants weather.", "signature": "sig"},
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_9", "name": "get_weather",
             "input": {"city": "Oslo"}},
        ],
        "stop_reason": "tool_use", "stop_sequence": None,
        "usage": {"input_tokens": 20, "output_tokens": 40, "cache_read_input_tokens": 1000,
                  "cache_creation_input_tokens": 300},
    }
    parsed = ADAPTER.parse_response(EP, orjson.dumps(wire))
    assert parsed.finish_reason == "tool_calls"
    assert parsed.usage == Usage(prompt_tokens=1320, completion_tokens=40,
                                 cache_read_tokens=1000, cache_write_tokens=300)
    message = parsed.body["choices"][0]["message"]
    assert message == {
        "role": "assistant", "content": "Checking.", "reasoning": "User wants weather.",
        "tool_calls": [{"id": "toolu_9", "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}]}
    assert parsed.body["model"] == "anthropic/claude-sonnet-4.5"


def _events(*pairs):
    return b"".join(f"event: {name}\ndata: {orjson.dumps(data).decode()}\n\n".encode()
                    for name, data in pairs)


STREAM = _events(
    ("message_start", {"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "c",
        "stop_reason": None, "usage": {"input_tokens": 25, "output_tokens": 1,
                                       "cache_read_input_tokens": 100,
                                       "cache_creation_input_tokens": 0}}}),
    ("content_block_start", {"type": "content_block_start", "index": 0,
                             "content_block": {"type": "thinking", "thinking": ""}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0,
                             "delta": {"type": "thinking_delta", "thinking": "Hmm."}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("content_block_start", {"type": "content_block_start", "index": 1,
                             "content_block": {"type": "text", "text": ""}}),
    ("ping", {"type": "ping"}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1,
                             "delta": {"type": "text_delta", "text": "Let me look."}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 1}),
    ("content_block_start", {"type": "content_block_start", "index": 2, "content_block": {
        "type": "tool_use", "id": "toolu_5", "name": "get_weather", "input": {}}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 2,
                             "delta": {"type": "input_json_delta", "partial_json": "{\"city\":"}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 2,
                             "delta": {"type": "input_json_delta", "partial_json": "\"Oslo\"}"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 2}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                       "usage": {"output_tokens": 33}}),
    ("message_stop", {"type": "message_stop"}),
)


@pytest.mark.parametrize("piece", [3, 4096])
def test_stream_translation_with_tool_use(piece):
    translator, chunks = run_stream(ADAPTER, EP, STREAM, piece)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"reasoning": "Hmm."},
        {"content": "Let me look."},
        {"tool_calls": [{"index": 0, "id": "toolu_5", "type": "function",
                         "function": {"name": "get_weather", "arguments": ""}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "\"Oslo\"}"}}]},
        {},
    ]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert translator.done is True
    assert translator.final_usage() == Usage(prompt_tokens=125, completion_tokens=33,
                                             cache_read_tokens=100)


def test_overloaded_error_event_is_retryable():
    raw = _events(("error", {"type": "error", "error": {"type": "overloaded_error",
                                                        "message": "Overloaded"}}))
    with pytest.raises(UpstreamFailure) as caught:
        run_stream(ADAPTER, EP, raw, 4096)
    assert (caught.value.message, caught.value.retryable) == ("Overloaded", True)


def test_error_body_and_529():
    failure = ADAPTER.translate_error(
        529, {}, b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')
    assert (failure.status, failure.retryable, failure.message) == (529, True, "Overloaded")
    invalid = ADAPTER.translate_error(
        400, {}, b'{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}')
    assert (invalid.retryable, invalid.message) == (False, "bad")


def test_cut_stream_keeps_the_providers_input_counts():
    cut = STREAM.split(b"event: content_block_stop")[0]  # ends after the thinking delta
    translator, chunks = run_stream(ADAPTER, EP, cut, 4096)
    assert translator.done is False
    assert translator.final_usage() == Usage(prompt_tokens=125, completion_tokens=2,
                                             cache_read_tokens=100, estimated=True)
