"""The official anthropic SDK against /v1/messages of a real gateway process."""

import anthropic
import pytest

from tests.gateway.helpers import wait_usage_record


@pytest.fixture
def gateway_url(sandbox_catalog, gateway, sandbox):
    return gateway.url


def _client(url, key, **kwargs):
    # The SDK appends /v1/messages to the base URL and sends the key as x-api-key.
    return anthropic.Anthropic(base_url=url, api_key=key, max_retries=0, timeout=30, **kwargs)


@pytest.mark.parametrize("model", ["anthropic/claude-sonnet-4", "openai/gpt-4o-mini",
                                   "google/gemini-2.5-flash"])
def test_messages_through_any_provider(gateway_url, funded_key, model):
    client = _client(gateway_url, funded_key.plaintext)
    message = client.messages.create(model=model, max_tokens=64,
                                     messages=[{"role": "user", "content": "Say hi"}])

    assert message.type == "message"
    assert message.content[0].type == "text" and message.content[0].text
    assert message.usage.output_tokens > 0
    record = wait_usage_record(message.id)
    assert record.served_model == model
    assert record.completion_tokens == message.usage.output_tokens


def test_messages_streaming_events(gateway_url, funded_key):
    client = _client(gateway_url, funded_key.plaintext)
    with client.messages.stream(model="anthropic/claude-sonnet-4", max_tokens=64,
                                messages=[{"role": "user", "content": "Tell me a story"}]
                                ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert text
    assert final.stop_reason in ("end_turn", "max_tokens")
    assert final.usage.output_tokens > 0
    record = wait_usage_record(final.id)
    assert record.streamed is True


def test_messages_tool_use(gateway_url, funded_key):
    client = _client(gateway_url, funded_key.plaintext)
    message = client.messages.create(
        model="anthropic/claude-sonnet-4", max_tokens=256,
        tools=[{"name": "get_time", "description": "Current time in a zone",
                "input_schema": {"type": "object", "properties": {"zone": {"type": "string"}},
                                 "required": ["zone"]}}],
        messages=[{"role": "user", "content": "What time is it in Tokyo?"}])

    block = next(b for b in message.content if b.type == "tool_use")
    assert message.stop_reason == "tool_use"
    assert block.name == "get_time" and isinstance(block.input["zone"], str)


def test_bearer_auth_also_works_and_bad_key_is_anthropic_shaped_401(gateway_url, funded_key):
    ok = anthropic.Anthropic(base_url=gateway_url, auth_token=funded_key.plaintext,
                             api_key=None, max_retries=0)
    assert ok.messages.create(model="anthropic/claude-sonnet-4", max_tokens=16,
                              messages=[{"role": "user", "content": "hi"}]).content

    bad = _client(gateway_url, "sk-sy-" + "x" * 43)
    with pytest.raises(anthropic.AuthenticationError) as caught:
        bad.messages.create(model="anthropic/claude-sonnet-4", max_tokens=16,
                            messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == "authentication_error"
