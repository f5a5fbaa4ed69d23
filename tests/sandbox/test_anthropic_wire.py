"""The official anthropic SDK, pointed straight at the sandbox, parses every kind of answer."""

import json

import anthropic
import httpx
import jsonschema
import pytest

from routing.sandbox.engine import DEFAULT_REPLY_TOKENS, reasoning_tokens_for, reply_text
from routing.sandbox.tokens import count_text

SLUG = "sandbox-anthropic"
TOOL = {
    "name": "lookup_order",
    "description": "Find an order",
    "input_schema": {
        "type": "object",
        "properties": {
            "order_id": {"type": "string", "pattern": "^[0-9]+$", "minLength": 3},
            "items": {"type": "array", "items": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "qty": {"type": "integer",
                                                                   "minimum": 1}},
                "required": ["sku", "qty"]}},
            "express": {"type": "boolean"},
        },
        "required": ["order_id", "items"],
    },
}


def client(sandbox, **kwargs):
    return anthropic.Anthropic(base_url=sandbox.anthropic_base(SLUG), api_key="sk-ant-test",
                               **kwargs)


def test_message_text_and_usage(sandbox):
    message = client(sandbox).messages.create(
        model="sandbox-claude", max_tokens=100, system="Be kind.",
        messages=[{"role": "user", "content": "What is a sandbox?"}],
    )
    assert message.content[0].type == "text"
    assert message.content[0].text == reply_text("What is a sandbox?")
    assert message.stop_reason == "end_turn"
    assert message.model == "sandbox-claude"
    assert message.usage.input_tokens == count_text("Be kind.") + count_text("What is a sandbox?")
    assert message.usage.output_tokens == DEFAULT_REPLY_TOKENS
    assert message.usage.cache_read_input_tokens == 0


def test_max_tokens_stop_reason(sandbox):
    message = client(sandbox).messages.create(
        model="m", max_tokens=3, messages=[{"role": "user", "content": "long please"}]
    )
    assert message.stop_reason == "max_tokens"
    assert message.content[0].text == "Sandbox reply to"
    assert message.usage.output_tokens == 3


def test_stop_sequence(sandbox):
    message = client(sandbox).messages.create(
        model="m", max_tokens=100, stop_sequences=["reply"],
        messages=[{"role": "user", "content": "hi"}],
    )
    assert message.stop_reason == "stop_sequence"
    assert message.stop_sequence == "reply"
    assert message.content[0].text == "Sandbox "


def test_stream_text_events_and_final_usage(sandbox):
    prompt = "stream it sandbox:tokens=30"
    with client(sandbox).messages.stream(
        model="m", max_tokens=1000, messages=[{"role": "user", "content": prompt}]
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and "content_block_delta" in kinds
    assert final.content[0].text == reply_text(prompt)
    assert final.usage.output_tokens == 30
    assert final.usage.input_tokens == count_text(prompt)
    assert final.stop_reason == "end_turn"


def test_tool_use_input_satisfies_schema(sandbox):
    message = client(sandbox).messages.create(
        model="m", max_tokens=200, tools=[TOOL],
        messages=[{"role": "user", "content": "where is my order?"}],
    )
    assert message.stop_reason == "tool_use"
    [block] = message.content
    assert block.type == "tool_use" and block.name == "lookup_order"
    assert block.id.startswith("toolu_")
    jsonschema.validate(block.input, TOOL["input_schema"])


def test_streamed_tool_use_uses_input_json_deltas(sandbox):
    with client(sandbox).messages.stream(
        model="m", max_tokens=200, tools=[TOOL], messages=[{"role": "user", "content": "go"}]
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()
    json_deltas = [e for e in events if e.type == "content_block_delta"
                   and e.delta.type == "input_json_delta"]
    assert len(json_deltas) > 2
    assert final.content[0].type == "tool_use"
    assert final.content[0].input["items"][0]["qty"] >= 1


def test_thinking_block_and_streamed_thinking(sandbox):
    kwargs = {"model": "m", "max_tokens": 2000,
              "thinking": {"type": "enabled", "budget_tokens": 1024},
              "messages": [{"role": "user", "content": "ponder this"}]}
    message = client(sandbox).messages.create(**kwargs)
    thinking, text = message.content
    assert thinking.type == "thinking" and thinking.signature
    assert count_text(thinking.thinking) == reasoning_tokens_for(budget=1024)
    assert message.usage.output_tokens == DEFAULT_REPLY_TOKENS + count_text(thinking.thinking)
    with client(sandbox).messages.stream(**kwargs) as stream:
        final = stream.get_final_message()
    assert final.content[0].thinking == thinking.thinking
    assert final.content[0].signature == final.content[0].signature
    assert final.content[1].text == text.text


def test_cache_control_writes_then_reads(sandbox):
    system = [{"type": "text", "text": "Long shared instructions. " * 10,
               "cache_control": {"type": "ephemeral"}}]
    api = client(sandbox)
    prefix = count_text(system[0]["text"])
    first = api.messages.create(model="m", max_tokens=50, system=system,
                                messages=[{"role": "user", "content": "one"}])
    assert first.usage.cache_creation_input_tokens == prefix
    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.input_tokens == count_text("one")
    second = api.messages.create(model="m", max_tokens=50, system=system,
                                 messages=[{"role": "user", "content": "two two"}])
    assert second.usage.cache_read_input_tokens == prefix
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.input_tokens == 2


def test_missing_version_header_and_max_tokens_are_anthropic_errors(sandbox):
    url = sandbox.anthropic_base(SLUG) + "/v1/messages"
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    response = httpx.post(url, json=body, headers={"x-api-key": "k"})
    assert response.status_code == 400
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(anthropic.BadRequestError) as caught:
        client(sandbox, max_retries=0).messages.create(
            model="m", max_tokens=0, messages=[{"role": "user", "content": "x"}])
    assert caught.value.body["error"]["type"] == "invalid_request_error"


def test_models_list_in_anthropic_shape(sandbox):
    page = client(sandbox).models.list()
    assert "claude-sonnet-4-5" in [m.id for m in page.data]


def test_structured_output_format_answers_matching_json(sandbox):
    schema = {"type": "object", "properties": {"answer": {"type": "string"},
                                               "confidence": {"type": "number", "minimum": 0,
                                                              "maximum": 1}},
              "required": ["answer", "confidence"], "additionalProperties": False}
    response = httpx.post(
        sandbox.anthropic_base(SLUG) + "/v1/messages",
        headers={"anthropic-version": "2023-06-01", "x-api-key": "k"},
        json={"model": "m", "max_tokens": 200, "messages": [{"role": "user", "content": "q"}],
              "output_format": {"type": "json_schema", "schema": schema}},
    )
    [block] = response.json()["content"]
    jsonschema.validate(json.loads(block["text"]), schema)
