"""Upstream error bodies: callers get status, typed metadata and a short redacted message; the
raw body goes to the server log, redacted."""

import logging

import pytest

from core.errors import InvalidRequest, UpstreamError
from tests.routing.builders import endpoint, provider
from tests.routing.engine_helpers import MODEL, drain, request, run

PLATFORM_KEY = "platform-provider-key-7f3a"  # matches no secret pattern: only its value gives it
SECRETS = ("sk-live-abcdef1234567890", "bob@example.com", "hunter2", PLATFORM_KEY,
           "Bearer eyJhbGciOi")
LEAKY = (f"Invalid key sk-live-abcdef1234567890 for bob@example.com (upstream "
         f"https://admin:hunter2@10.0.0.7/v1, auth Bearer eyJhbGciOi.x.y, ours {PLATFORM_KEY})")


def sandbox_endpoint(sandbox, slug, name):
    return endpoint(MODEL, provider(slug, base_url=sandbox.openai_base(slug), name=name),
                    upstream_model_id="sandbox-model")


def kwargs():
    return {"max_tokens_for": lambda e: 64, "deadline_s": 10.0,
            "credentials": lambda p: PLATFORM_KEY}


def leaves_no_secret(text):
    return not any(secret in text for secret in SECRETS)


def logged(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "routing.engine.failures"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_rejection_is_typed_short_and_redacted(sandbox, caplog, stream):
    a = sandbox_endpoint(sandbox, "leak-a", "Leaky Inc")
    sandbox.control.set_fault("leak-a", error_status=400, error_body={"error": {
        "message": LEAKY + " and more detail" * 20, "type": "invalid_request_error",
        "code": "context_length_exceeded"}})

    async def test(upstream):
        if stream:
            return await drain(await upstream.stream(request(stream=True), [a], **kwargs()))
        return await upstream.complete(request(), [a], **kwargs())
    with caplog.at_level(logging.WARNING), pytest.raises(InvalidRequest) as caught:
        run(test)

    error = caught.value
    assert error.status == 400
    assert error.message.startswith("The provider rejected the request: Invalid key [redacted]")
    assert len(error.message) <= len("The provider rejected the request: ") + 120
    assert leaves_no_secret(str(error.as_openai()))
    metadata = error.as_openai()["error"]["metadata"]
    assert (metadata["error_type"], metadata["provider_name"], metadata["provider"],
            metadata["upstream_status"]) == ("context_length_exceeded", "Leaky Inc", "leak-a", 400)
    [line] = logged(caplog)
    assert line.startswith("provider leak-a failed (400): {")
    assert "and more detail" in line and "[redacted]" in line and leaves_no_secret(line)


def test_an_html_error_page_gives_a_typed_502_without_the_page(sandbox, caplog):
    a = sandbox_endpoint(sandbox, "leak-b", "Leaky B")
    b = sandbox_endpoint(sandbox, "leak-c", "Leaky C")
    for slug in ("leak-b", "leak-c"):
        sandbox.control.set_fault(slug, error_status=503,
                                  error_body=f"<html><body>{LEAKY}</body></html>")

    async def test(upstream):
        return await upstream.complete(request(), [a, b], **kwargs())
    with caplog.at_level(logging.WARNING), pytest.raises(UpstreamError) as caught:
        run(test)

    body = caught.value.as_openai()["error"]
    assert body["code"] == 502
    assert (body["metadata"]["error_type"], body["metadata"]["provider_name"]) == (
        "provider_unavailable", "Leaky C")
    assert [a["status"] for a in body["metadata"]["attempts"]] == [503, 503]
    assert leaves_no_secret(str(body))
    lines = logged(caplog)
    assert len(lines) == 2 and all(leaves_no_secret(line) for line in lines)
    assert "<html><body>Invalid key [redacted] for [email]" in lines[0]


def test_our_key_is_redacted_before_the_message_is_cut(sandbox):
    a = sandbox_endpoint(sandbox, "leak-d", "Leaky D")
    sandbox.control.set_fault("leak-d", error_status=422, error_body={"error": {
        "message": "x" * 100 + " bad key " + PLATFORM_KEY}})

    async def test(upstream):
        return await upstream.complete(request(), [a], **kwargs())
    with pytest.raises(InvalidRequest) as caught:
        run(test)

    body = str(caught.value.as_openai())
    assert "bad key [redacted]" in body and PLATFORM_KEY[:8] not in body
    assert caught.value.metadata["error_type"] == "unprocessable"
