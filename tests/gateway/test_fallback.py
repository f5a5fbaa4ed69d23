"""Fallback and retry end to end: sandbox faults behind a real gateway process."""

import httpx
import orjson
import pytest

from tests.gateway.helpers import wait_usage_record

BOTH = {"order": ["sandbox-openai", "sandbox-openai-b"]}
pytestmark = pytest.mark.gateway_env(GATEWAY_ATTEMPT_TIMEOUT_S="2",
                                     GATEWAY_STREAM_IDLE_TIMEOUT_S="2")


@pytest.fixture
def client(sandbox_catalog, funded_key, gateway, sandbox):
    with httpx.Client(base_url=gateway.url, timeout=60,
                      headers={"Authorization": f"Bearer {funded_key.plaintext}"}) as http:
        yield http


def _chat(client, provider, stream=False):
    return client.post("/v1/chat/completions", json={
        "model": "openai/gpt-4o-mini", "stream": stream, "provider": provider,
        "messages": [{"role": "user", "content": "Tell me about the sea in a few sentences"}]})


def _events(response) -> list:
    return [line[6:] for line in response.text.split("\n") if line.startswith("data: ")]


def test_mid_stream_reset_ends_with_an_error_event_then_usage(client, sandbox):
    sandbox.control.set_fault("sandbox-openai", reset_after_bytes=400)
    response = _chat(client, BOTH, stream=True)

    assert response.status_code == 200
    events = _events(response)
    assert events[-1] == "[DONE]"
    chunks = [orjson.loads(e) for e in events[:-1]]
    errors = [c for c in chunks if "error" in c]
    assert len(errors) == 1 and errors[0]["choices"][0]["finish_reason"] == "error"
    assert chunks[-1]["choices"] == [] and "usage" in chunks[-1]
    record = wait_usage_record(chunks[0]["id"])
    assert record.finish_reason == "error" and record.provider_slug == "sandbox-openai"
    # Nothing reached sandbox-openai-b: after the first byte there is no fallback.
    assert sandbox.control.requests("sandbox-openai-b") == []


@pytest.mark.parametrize("fault", [
    {"error_status": 503},
    {"rate_limit": True, "retry_after_s": 1},
    {"reset_after_bytes": 0},
    {"stall": True},
    {"malformed_json": True},
])
def test_failures_before_the_first_byte_fall_back_transparently(client, sandbox, fault):
    sandbox.control.set_fault("sandbox-openai", **fault)
    for stream in (False, True):
        response = _chat(client, BOTH, stream=stream)
        assert response.status_code == 200, response.text
        if stream:
            events = _events(response)
            assert events[-1] == "[DONE]"
            request_id = orjson.loads(events[0])["id"]
            assert all("error" not in orjson.loads(e) for e in events[:-1])
        else:
            request_id = response.json()["id"]
            assert response.json()["provider"] == "Sandbox OpenAI B"
        record = wait_usage_record(request_id)
        assert record.provider_slug == "sandbox-openai-b"
        assert [a["provider"] for a in record.attempts][-1] == "sandbox-openai-b"
        assert record.attempts[-1]["status"] == 200


def test_no_fallback_allowed_gives_502_and_an_uncharged_record(client, sandbox, funded_key):
    sandbox.control.set_fault("sandbox-openai", error_status=500)
    response = _chat(client, {"order": ["sandbox-openai"], "allow_fallbacks": False})

    assert response.status_code == 502
    body = response.json()["error"]
    assert body["code"] == 502
    assert body["metadata"]["attempts"][0]["status"] == 500
    record = wait_usage_record(response.headers["x-request-id"])
    assert record.charge_nanos == 0 and record.finish_reason == "error"
    assert sandbox.control.requests("sandbox-openai-b") == []


def test_a_provider_4xx_is_not_retried(client, sandbox):
    sandbox.control.set_fault("sandbox-openai", error_status=400)
    response = _chat(client, BOTH)

    assert response.status_code == 400
    assert sandbox.control.requests("sandbox-openai-b") == []
