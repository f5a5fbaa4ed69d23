"""Every fault profile, seen by real clients over real sockets."""

import json
import time

import anthropic
import httpx
import openai
import pytest

from routing.sandbox.engine import reply_text

SLUG = "sandbox-openai"
LONG = [{"role": "user", "content": "long answer sandbox:tokens=200"}]


def api(sandbox, **kwargs):
    kwargs.setdefault("max_retries", 0)
    return openai.OpenAI(base_url=sandbox.openai_base(SLUG), api_key="k", **kwargs)


def ok(sandbox, **kwargs):
    return api(sandbox).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], **kwargs)


def test_rate_limit_is_429_with_retry_after(sandbox):
    sandbox.control.set_fault(SLUG, rate_limit=True, retry_after_s=2)
    with pytest.raises(openai.RateLimitError) as caught:
        ok(sandbox)
    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.body["code"] == "rate_limit_exceeded"


def test_error_status_in_each_wire_shape(sandbox):
    for slug in ("sandbox-openai", "sandbox-anthropic", "sandbox-gemini"):
        sandbox.control.set_fault(slug, error_status=503)
    with pytest.raises(openai.InternalServerError) as caught:
        ok(sandbox)
    assert caught.value.status_code == 503
    assert caught.value.body["type"] == "server_error"
    claude = anthropic.Anthropic(base_url=sandbox.anthropic_base(), api_key="k", max_retries=0)
    with pytest.raises(anthropic.InternalServerError) as caught:
        claude.messages.create(model="m", max_tokens=5, messages=[{"role": "user",
                                                                   "content": "x"}])
    assert caught.value.body == {"type": "error", "error": {
        "type": "api_error", "message": "sandbox injected fault"}}
    response = httpx.post(sandbox.gemini_base() + "/models/g:generateContent",
                          json={"contents": [{"parts": [{"text": "x"}]}]})
    assert response.status_code == 503
    assert response.json()["error"]["status"] == "UNAVAILABLE"


def test_fail_first_n_then_recover(sandbox):
    sandbox.control.set_fault(SLUG, fail_first_n=2)
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            ok(sandbox)
    assert ok(sandbox).choices[0].message.content == reply_text("hi")


def test_error_rate_is_deterministic(sandbox):
    sandbox.control.set_fault(SLUG, error_status=500, error_rate=0.5)
    outcomes = []
    for _ in range(6):
        try:
            ok(sandbox)
            outcomes.append("ok")
        except openai.InternalServerError:
            outcomes.append("fail")
    assert outcomes == ["ok", "fail"] * 3


def test_custom_error_body(sandbox):
    sandbox.control.set_fault(SLUG, error_status=400, error_body={"error": {"message": "nope"}})
    with pytest.raises(openai.BadRequestError) as caught:
        ok(sandbox)
    assert caught.value.body == {"message": "nope"}


def test_reset_mid_stream_raises_after_first_chunks(sandbox):
    sandbox.control.set_fault(SLUG, reset_after_bytes=600)
    received = []
    with pytest.raises((openai.APIConnectionError, httpx.HTTPError)):
        for chunk in api(sandbox).chat.completions.create(model="m", messages=LONG, stream=True):
            received.append(chunk)
    assert len(received) >= 2
    text = "".join(c.choices[0].delta.content or "" for c in received)
    assert reply_text(LONG[0]["content"]).startswith(text)


def test_reset_counts_body_bytes_exactly(sandbox):
    sandbox.control.set_fault(SLUG, reset_after_bytes=100)
    body = {"model": "m", "stream": True, "messages": LONG}
    data = b""
    url = sandbox.openai_base(SLUG) + "/chat/completions"
    with (pytest.raises(httpx.HTTPError),
          httpx.stream("POST", url, json=body, timeout=5) as response):
        for piece in response.iter_raw():
            data += piece
    assert len(data) == 100 and data.startswith(b"data: {")


def test_reset_before_any_byte_is_a_connection_error(sandbox):
    sandbox.control.set_fault(SLUG, reset_after_bytes=0)
    with pytest.raises(openai.APIConnectionError):
        ok(sandbox)


def test_stall_times_out_the_client_then_the_server_still_answers(sandbox):
    sandbox.control.set_fault(SLUG, stall=True)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        api(sandbox, timeout=0.5).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}])
    assert 0.4 < time.monotonic() - started < 3
    sandbox.control.clear_fault(SLUG)
    assert ok(sandbox).choices[0].message.content == reply_text("hi")


def test_stall_mid_stream_after_some_bytes(sandbox):
    sandbox.control.set_fault(SLUG, stall_after_bytes=400)
    received = []
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):  # noqa: PT012 - the read stalls
        for chunk in api(sandbox, timeout=0.7).chat.completions.create(
                model="m", messages=LONG, stream=True):
            received.append(chunk)
    assert received and time.monotonic() - started < 5
    sandbox.control.clear_fault(SLUG)
    assert ok(sandbox).choices[0].message.content == reply_text("hi")


def test_malformed_json_fails_to_parse(sandbox):
    sandbox.control.set_fault(SLUG, malformed_json=True)
    with pytest.raises(json.JSONDecodeError):
        ok(sandbox)
    response = httpx.post(sandbox.openai_base(SLUG) + "/chat/completions",
                          json={"model": "m", "messages": LONG})
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_latency_and_time_to_first_token(sandbox):
    sandbox.control.set_fault(SLUG, latency_ms=150)
    started = time.monotonic()
    ok(sandbox)
    assert time.monotonic() - started >= 0.15
    sandbox.control.set_fault(SLUG, ttft_ms=1000, inter_chunk_ms=10)
    started = time.monotonic()
    stream = api(sandbox).chat.completions.create(model="m", stream=True, messages=[
        {"role": "user", "content": "t sandbox:tokens=20"}])
    headers_at = time.monotonic() - started
    chunks = [(time.monotonic() - started, c) for c in stream]
    assert chunks[0][0] >= 1.0
    # the status line and headers come at once; only the first chunk waits (slack for load)
    assert chunks[0][0] - headers_at >= 0.5
    # The last chunk cannot come before the first chunk's wait plus every gap. (Measuring from
    # the first chunk instead flaked: a client read that joins the first two chunks delays the
    # first one's timestamp and shortens the span by a gap.)
    assert chunks[-1][0] >= 1.0 + 0.01 * (len(chunks) - 1)


def test_faults_are_per_provider_and_cleared(sandbox):
    sandbox.control.set_fault("sandbox-openai-b", error_status=502)
    assert ok(sandbox).choices[0].message.content  # another slug is unaffected
    assert sandbox.control.fault("sandbox-openai-b")["error_status"] == 502
    sandbox.control.set_fault(SLUG, error_status=502)
    sandbox.control.clear()
    assert ok(sandbox).choices[0].message.content
    assert "error_status" not in sandbox.control.fault("sandbox-openai-b")


def test_invalid_profiles_are_rejected(sandbox):
    for profile in ({"error_status": 200}, {"error_rate": 2}, {"latency_ms": "x"},
                    {"bogus": 1}, {"stall": 1}):
        response = httpx.put(f"{sandbox.base_url}/_control/providers/{SLUG}/fault", json=profile)
        assert response.status_code == 400, profile


def test_request_log_clears(sandbox):
    ok(sandbox)
    assert len(sandbox.control.requests(SLUG)) == 1
    sandbox.control.clear_requests(SLUG)
    assert sandbox.control.requests(SLUG) == []
