"""/v1/messages translation: Anthropic requests in, Anthropic Messages and events out."""

import asyncio

import anthropic
import pytest
from aiohttp import web

from core.errors import InvalidRequest
from routing.inbound.anthropic_messages import (
    AnthropicStreamWriter,
    parse_messages_request,
    render_message,
)
from routing.types import Usage
from tests.openrouter_schema import errors

BODY = {
    "model": "anthropic/claude-sonnet-4.5",
    "max_tokens": 2048,
    "system": [{"type": "text", "text": "Be terse.", "cache_control": {"type": "ephemeral"}}],
    "messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "Weather in this picture's city?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": "iVBOR"}}]},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "Oslo.", "signature": "s"},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
             "input": {"city": "Oslo"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "rain"},
            {"type": "text", "text": "And tomorrow?"}]},
    ],
    "tools": [{"name": "get_weather", "description": "Weather",
               "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
               "cache_control": {"type": "ephemeral"}}],
    "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
    "stop_sequences": ["END"],
    "temperature": 0.4,
    "top_k": 20,
    "metadata": {"user_id": "u-42"},
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "stream": True,
}


def test_parse_into_a_canonical_request():
    request = parse_messages_request(BODY)
    assert request.model == "anthropic/claude-sonnet-4.5"
    assert request.max_tokens == 2048 and request.stream is True
    assert request.messages == [
        {"role": "system", "content": [{"type": "text", "text": "Be terse.",
                                        "cache_control": {"type": "ephemeral"}}]},
        {"role": "user", "content": [
            {"type": "text", "text": "Weather in this picture's city?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "toolu_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "rain"},
        {"role": "user", "content": [{"type": "text", "text": "And tomorrow?"}]},
    ]
    assert request.params == {
        "temperature": 0.4, "top_k": 20, "stop": ["END"],
        "tools": [{"type": "function", "cache_control": {"type": "ephemeral"},
                   "function": {"name": "get_weather", "description": "Weather",
                                "parameters": {"type": "object",
                                               "properties": {"city": {"type": "string"}}}}}],
        "tool_choice": "required", "parallel_tool_calls": False, "user": "u-42",
    }
    assert request.reasoning == {"max_tokens": 1024}
    assert request.input_modalities == frozenset({"text", "image"})
    assert request.used_parameters == frozenset(
        {"max_tokens", "temperature", "top_k", "stop", "tools", "tool_choice", "reasoning"})
    assert request.prompt_upper_bytes >= len("Weather in this picture's city?And tomorrow?")


@pytest.mark.parametrize(("change", "param"), [
    ({"max_tokens": None}, "max_tokens"),
    ({"max_tokens": "10"}, "max_tokens"),
    ({"model": ""}, "model"),
    ({"messages": []}, "messages"),
    ({"temperature": 1.5}, "temperature"),
    ({"messages": [{"role": "system", "content": "x"}]}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": [{"type": "video"}]}]},
     "messages[0].content[0].type"),
    ({"stop_sequences": "END"}, "stop_sequences"),
    ({"tool_choice": {"type": "tool"}}, "tool_choice.name"),
    ({"thinking": {"type": "enabled"}}, "budget_tokens"),
    ({"stream": "yes"}, "stream"),
    ({"max_tokens": 1_000_001}, "max_tokens"),
    ({"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                                                 "content": [{"type": "text", "text": 5}]}]}]},
     "messages[0].content[0].content[0].text"),
])
def test_invalid_fields_are_400s_naming_the_field(change, param):
    body = {**BODY, **change}
    body = {k: v for k, v in body.items() if v is not None}
    with pytest.raises(InvalidRequest) as caught:
        parse_messages_request(body)
    assert caught.value.status == 400
    assert caught.value.metadata["param"] == param


COMPLETION = {
    "id": "gen-abc", "object": "chat.completion", "created": 1, "model": "anthropic/claude",
    "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": "Checking.", "reasoning": "Think.",
        "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}]}}],
}
USAGE = Usage(prompt_tokens=1300, completion_tokens=40, cache_read_tokens=1000,
              cache_write_tokens=200, reasoning_tokens=10)


def test_render_message_matches_openrouters_schema():
    message = render_message(COMPLETION, USAGE, model="anthropic/claude", cost_usd=0.0012)
    assert message["content"] == [
        {"type": "thinking", "thinking": "Think.", "signature": ""},
        {"type": "text", "text": "Checking.", "citations": None},
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Oslo"},
         "caller": {"type": "direct"}},
    ]
    assert message["stop_reason"] == "tool_use"
    assert (message["usage"]["input_tokens"], message["usage"]["cache_read_input_tokens"],
            message["usage"]["cache_creation_input_tokens"],
            message["usage"]["output_tokens"]) == (100, 1000, 200, 40)
    assert errors(message, "MessagesResult") == []


CHUNKS = [
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
    {"choices": [{"index": 0, "delta": {"reasoning": "Hmm"}}]},
    {"choices": [{"index": 0, "delta": {"content": "Let me "}}]},
    {"choices": [{"index": 0, "delta": {"content": "check."}}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_7",
                  "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {
        "arguments": '{"city":'}}]}}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {
        "arguments": '"Oslo"}'}}]}}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
]


def written_stream(usage=USAGE, error=None) -> bytes:
    writer = AnthropicStreamWriter("msg_gen-1", "anthropic/claude")
    body = b"".join(writer.chunk(c) for c in CHUNKS)
    return body + writer.finish(usage, error=error)


def test_stream_writer_event_sequence():
    events = [line[7:] for line in written_stream().decode().splitlines()
              if line.startswith("event: ")]
    assert events == [
        "message_start",
        "content_block_start", "content_block_delta", "content_block_stop",  # thinking
        "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_stop",  # text
        "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_stop",  # tool_use
        "message_delta", "message_stop",
    ]


def test_the_anthropic_sdk_parses_the_written_stream():
    """Serve the bytes over a real socket and let the official SDK accumulate them."""
    async def main():
        async def handler(request):
            response = web.StreamResponse(headers={"content-type": "text/event-stream"})
            await response.prepare(request)
            await response.write(written_stream())
            await response.write_eof()
            return response
        app = web.Application()
        app.router.add_post("/v1/messages", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - port 0 lookup
        try:
            client = anthropic.AsyncAnthropic(base_url=f"http://127.0.0.1:{port}",
                                              api_key="sk-test", max_retries=0)
            async with client.messages.stream(model="anthropic/claude", max_tokens=100,
                                              messages=[{"role": "user", "content": "hi"}]
                                              ) as stream:
                texts = [t async for t in stream.text_stream]
                return texts, await stream.get_final_message()
        finally:
            await runner.cleanup()
    texts, message = asyncio.run(main())
    assert texts == ["Let me ", "check."]
    assert [b.type for b in message.content] == ["thinking", "text", "tool_use"]
    assert message.content[2].input == {"city": "Oslo"}
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.output_tokens,
            message.usage.cache_read_input_tokens) == (100, 40, 1000)


def test_stream_writer_error_event():
    text = written_stream(error="provider reset").decode()
    assert text.rstrip().endswith(
        'event: error\ndata: {"type":"error","error":{"type":"api_error",'
        '"message":"provider reset"}}')
    assert "message_stop" not in text
