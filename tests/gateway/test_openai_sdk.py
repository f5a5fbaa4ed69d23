"""The official openai SDK against a real gateway process, routed to the sandbox providers."""

import asyncio
import json

import openai
import pytest

from tests.gateway.helpers import wait_usage_record


@pytest.fixture
def client(sandbox_catalog, funded_key, gateway, sandbox):
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=funded_key.plaintext,
                         max_retries=0, timeout=30)


def test_sync_completion_reports_usage_and_cost(client, funded_key):
    completion = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}],
        extra_body={"provider": {"order": ["sandbox-openai"], "allow_fallbacks": False}})

    assert completion.choices[0].message.content
    usage = completion.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    extra = usage.model_extra
    assert extra["is_byok"] is False
    record = wait_usage_record(completion.id)
    assert record.org_id == funded_key.org.pk
    assert record.prompt_tokens == usage.prompt_tokens
    assert record.completion_tokens == usage.completion_tokens
    assert record.provider_slug == "sandbox-openai"
    # cost is the exact charge in USD: upstream at $0.15/$0.60 per M plus the 5.5% margin.
    upstream = (usage.prompt_tokens * 150_000_000 + usage.completion_tokens * 600_000_000
                + 500_000) // 1_000_000
    assert record.upstream_cost_nanos == upstream
    assert record.charge_nanos == upstream + (upstream * 550 + 5_000) // 10_000
    assert round(extra["cost"] * 1_000_000_000) == record.charge_nanos


def test_streaming_sends_chunks_then_a_usage_chunk(client):
    stream = client.chat.completions.create(
        model="openai/gpt-4o-mini", stream=True,
        messages=[{"role": "user", "content": "Count to five"}])
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens > 0
    record = wait_usage_record(chunks[0].id)
    assert record.streamed is True
    assert record.completion_tokens == chunks[-1].usage.completion_tokens


def test_async_client_concurrent_requests(sandbox_catalog, funded_key, gateway, sandbox):

    async def run():
        async with openai.AsyncOpenAI(base_url=f"{gateway.url}/v1",
                                      api_key=funded_key.plaintext, max_retries=0) as aclient:
            return await asyncio.gather(*[
                aclient.chat.completions.create(
                    model="openai/gpt-4o-mini",
                    messages=[{"role": "user", "content": f"Request {i}"}])
                for i in range(8)])

    results = asyncio.run(run())
    assert len({r.id for r in results}) == 8
    for result in results:
        wait_usage_record(result.id)


def test_tool_call_round_trip(client):
    tools = [{"type": "function", "function": {
        "name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}}]
    completion = client.chat.completions.create(
        model="openai/gpt-4o-mini", tools=tools,
        messages=[{"role": "user", "content": "Weather in Paris?"}])

    call = completion.choices[0].message.tool_calls[0]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["city"], str)


def test_streamed_tool_call(client):
    tools = [{"type": "function", "function": {
        "name": "lookup", "parameters": {"type": "object",
                                         "properties": {"q": {"type": "string"}},
                                         "required": ["q"]}}}]
    stream = client.chat.completions.create(
        model="openai/gpt-4o-mini", tools=tools, stream=True,
        messages=[{"role": "user", "content": "Look it up"}])
    arguments, name, finish = "", None, None
    for chunk in stream:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or ():
                name = name or call.function.name
                arguments += call.function.arguments or ""
            finish = choice.finish_reason or finish

    assert name == "lookup"
    assert isinstance(json.loads(arguments)["q"], str)
    assert finish == "tool_calls"


def test_json_schema_response_format(client):
    schema = {"type": "object", "properties": {"name": {"type": "string"},
                                               "age": {"type": "integer"}},
              "required": ["name", "age"], "additionalProperties": False}
    completion = client.chat.completions.create(
        model="openai/gpt-4o-mini",
        response_format={"type": "json_schema",
                         "json_schema": {"name": "person", "schema": schema, "strict": True}},
        messages=[{"role": "user", "content": "A person"}])

    data = json.loads(completion.choices[0].message.content)
    assert isinstance(data["name"], str) and isinstance(data["age"], int)
