"""End to end: where the gateway may connect, and what callers learn of a provider's error."""

import time

import httpx
import pytest

from billing.models import UsageRecord

PLATFORM_KEY = "sk-platform-0123456789abcdef"
SECRET_BODY = {"error": {
    "message": f"Incorrect API key provided: {PLATFORM_KEY}. Contact ops@provider.example or "
               "use https://root:toor@internal.provider.example/retry",
    "type": "invalid_request_error", "code": "invalid_api_key"}}


def _chat(gateway, key, stream=False, provider=None):
    with httpx.Client(base_url=gateway.url, timeout=60,
                      headers={"Authorization": f"Bearer {key}"}) as http:
        return http.post("/v1/chat/completions", json={
            "model": "openai/gpt-4o-mini", "stream": stream,
            "provider": provider or {"order": ["sandbox-openai"], "allow_fallbacks": False},
            "messages": [{"role": "user", "content": "Hello"}]})


@pytest.mark.parametrize("stream", [False, True])
def test_without_an_allowed_network_the_loopback_sandbox_is_not_called(
        sandbox_catalog, funded_key, start_gateway, sandbox, stream):
    gateway = start_gateway(UPSTREAM_ALLOWED_NETWORKS="")
    response = _chat(gateway, funded_key.plaintext, stream=stream)

    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["metadata"]["error_type"] == "provider_unavailable"
    assert error["metadata"]["attempts"][0]["status"] == "connect_error"
    assert "Refused to connect: 127.0.0.1 is in the blocked network 127.0.0.0/8" in \
        error["message"]
    assert sandbox.control.requests("sandbox-openai") == []
    time.sleep(0.2)  # the writer's batch window: a reached provider would leave a record
    assert not UsageRecord.objects.filter(request_id=response.headers["x-request-id"]).exists()


def test_a_provider_error_reaches_the_caller_typed_and_redacted(
        sandbox_catalog, funded_key, start_gateway, sandbox):
    gateway = start_gateway(PROVIDER_KEYS=f"sandbox-openai={PLATFORM_KEY}", LOG_LEVEL="WARNING")
    sandbox.control.set_fault("sandbox-openai", error_status=401, error_body=SECRET_BODY)
    response = _chat(gateway, funded_key.plaintext)

    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["metadata"]["error_type"] == "provider_unavailable"
    assert error["metadata"]["provider_name"] == "Sandbox OpenAI"
    assert error["message"] == (
        "The provider failed to answer: Incorrect API key provided: [redacted]. Contact [email] or "
        "use https://[redacted]@internal.provider.example/retry")
    for secret in ("0123456789abcdef", "ops@provider", "toor"):
        assert secret not in response.text
    deadline = time.monotonic() + 5
    while "provider sandbox-openai failed (401)" not in gateway.log_text():
        assert time.monotonic() < deadline, gateway.log_text()[-2000:]
        time.sleep(0.05)
    line = next(x for x in gateway.log_text().splitlines() if "failed (401)" in x)
    assert '"code":"invalid_api_key"' in line and "[redacted]" in line
    for secret in ("0123456789abcdef", "ops@provider", "toor"):
        assert secret not in line


def test_a_rejection_names_its_typed_error(sandbox_catalog, funded_key, gateway, sandbox):
    sandbox.control.set_fault("sandbox-openai", error_status=400, error_body={"error": {
        "message": "This model's maximum context length is 128000 tokens.",
        "type": "invalid_request_error", "code": "context_length_exceeded"}})
    response = _chat(gateway, funded_key.plaintext)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == ("The provider rejected the request: This model's maximum "
                                "context length is 128000 tokens.")
    assert (error["metadata"]["error_type"], error["metadata"]["provider_name"],
            error["metadata"]["upstream_status"]) == (
        "context_length_exceeded", "Sandbox OpenAI", 400)
