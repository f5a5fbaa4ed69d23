"""Upstream.complete against the real sandbox server: retries, fallbacks, timeouts, errors."""

import socket
import time
from dataclasses import replace

import pytest

from core.errors import InvalidRequest, RateLimited, RequestTimeout, UpstreamError
from routing.sandbox.engine import DEFAULT_REPLY_TOKENS
from routing.sandbox.tokens import count_text
from tests.routing.engine_helpers import (
    PROMPT,
    call_kwargs,
    request,
    run,
    sandbox_endpoint,
)


def statuses(result):
    return [(a.provider, a.status) for a in result.attempts]


def test_success_translates_body_and_usage(sandbox):
    a = sandbox_endpoint(sandbox, "fb-ok")

    async def test(upstream):
        return await upstream.complete(request(), [a], request_id="gen-xyz", **call_kwargs())
    result = run(test)
    assert result.endpoint is a
    assert result.body["id"] == "gen-xyz"
    assert result.body["model"] == "acme/chat"
    assert result.body["choices"][0]["message"]["content"].startswith("Sandbox reply to:")
    assert result.usage.prompt_tokens == count_text(PROMPT)
    assert result.usage.completion_tokens == DEFAULT_REPLY_TOKENS
    assert result.usage.estimated is False
    assert statuses(result) == [("fb-ok", 200)]
    sent = sandbox.control.requests("fb-ok")[-1]
    assert sent["body"]["model"] == "sandbox-model"
    assert sent["body"]["max_tokens"] == 64
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert headers["user-agent"] == "switchyard-gateway/0.1"
    assert headers["content-type"] == "application/json"


def test_503_falls_back_to_the_next_provider(sandbox):
    a, b = sandbox_endpoint(sandbox, "fb-a"), sandbox_endpoint(sandbox, "fb-b")
    sandbox.control.set_fault("fb-a", error_status=503)

    async def test(upstream):
        result = await upstream.complete(request(), [a, b], **call_kwargs())
        return result, upstream.health.stats(a.id)
    result, a_stats = run(test)
    assert result.endpoint is b
    assert statuses(result) == [("fb-a", 503), ("fb-b", 200)]
    assert a_stats.failures == 1


def test_429_with_short_retry_after_is_retried_on_the_same_endpoint(sandbox):
    a, b = sandbox_endpoint(sandbox, "rl-a"), sandbox_endpoint(sandbox, "rl-b")
    sandbox.control.set_fault("rl-a", rate_limit=True, retry_after_s=1, fail_first_n=1)

    async def test(upstream):
        began = time.monotonic()
        result = await upstream.complete(request(), [a, b], **call_kwargs())
        return result, time.monotonic() - began
    result, elapsed = run(test)
    assert result.endpoint is a
    assert statuses(result) == [("rl-a", 429), ("rl-a", 200)]
    assert elapsed >= 1.0
    assert sandbox.control.requests("rl-b") == []


def test_429_with_long_retry_after_moves_on_at_once(sandbox):
    a, b = sandbox_endpoint(sandbox, "rl-c"), sandbox_endpoint(sandbox, "rl-d")
    sandbox.control.set_fault("rl-c", rate_limit=True, retry_after_s=30)

    async def test(upstream):
        began = time.monotonic()
        result = await upstream.complete(request(), [a, b], **call_kwargs())
        return result, time.monotonic() - began
    result, elapsed = run(test)
    assert result.endpoint is b
    assert statuses(result) == [("rl-c", 429), ("rl-d", 200)]
    assert elapsed < 2.0


def test_every_provider_rate_limited_gives_429_with_retry_after(sandbox):
    a, b = sandbox_endpoint(sandbox, "rl-e"), sandbox_endpoint(sandbox, "rl-f")
    sandbox.control.set_fault("rl-e", rate_limit=True, retry_after_s=30)
    sandbox.control.set_fault("rl-f", rate_limit=True, retry_after_s=20)

    async def test(upstream):
        return await upstream.complete(request(), [a, b], **call_kwargs())
    with pytest.raises(RateLimited) as caught:
        run(test)
    assert caught.value.headers == {"retry-after": "20"}
    assert [x["status"] for x in caught.value.metadata["attempts"]] == [429, 429]


def test_a_rejected_request_is_not_retried(sandbox):
    a, b = sandbox_endpoint(sandbox, "bad-a"), sandbox_endpoint(sandbox, "bad-b")
    sandbox.control.set_fault("bad-a", error_status=400)

    async def test(upstream):
        return await upstream.complete(request(), [a, b], **call_kwargs())
    with pytest.raises(InvalidRequest) as caught:
        run(test)
    assert caught.value.status == 400
    assert caught.value.metadata["provider"] == "bad-a"
    assert sandbox.control.requests("bad-b") == []


def test_stall_times_out_then_falls_back(sandbox):
    a, b = sandbox_endpoint(sandbox, "st-a"), sandbox_endpoint(sandbox, "st-b")
    sandbox.control.set_fault("st-a", stall=True)

    async def test(upstream):
        began = time.monotonic()
        result = await upstream.complete(request(), [a, b], **call_kwargs())
        return result, time.monotonic() - began
    result, elapsed = run(test, attempt_timeout_s=0.5)
    assert result.endpoint is b
    assert statuses(result) == [("st-a", "timeout"), ("st-b", 200)]
    assert 0.5 <= elapsed < 3.0


def test_malformed_json_falls_back(sandbox):
    a, b = sandbox_endpoint(sandbox, "mj-a"), sandbox_endpoint(sandbox, "mj-b")
    sandbox.control.set_fault("mj-a", malformed_json=True)

    async def test(upstream):
        return await upstream.complete(request(), [a, b], **call_kwargs())
    result = run(test)
    assert result.endpoint is b
    assert statuses(result) == [("mj-a", "malformed"), ("mj-b", 200)]


def test_exhausted_candidates_give_502_with_the_attempts(sandbox):
    a, b = sandbox_endpoint(sandbox, "ex-a"), sandbox_endpoint(sandbox, "ex-b")
    sandbox.control.set_fault("ex-a", error_status=500)
    sandbox.control.set_fault("ex-b", reset_after_bytes=0)

    async def test(upstream):
        return await upstream.complete(request(), [a, b], **call_kwargs())
    with pytest.raises(UpstreamError) as caught:
        run(test)
    assert caught.value.status == 502
    assert [(x["provider"], x["status"]) for x in caught.value.metadata["attempts"]] == \
        [("ex-a", 500), ("ex-b", "reset")]


def test_deadline_gives_408(sandbox):
    a, b = sandbox_endpoint(sandbox, "dl-a"), sandbox_endpoint(sandbox, "dl-b")
    sandbox.control.set_fault("dl-a", stall=True)
    sandbox.control.set_fault("dl-b", stall=True)

    async def test(upstream):
        began = time.monotonic()
        try:
            await upstream.complete(request(), [a, b], **call_kwargs(deadline_s=0.8))
        finally:
            test.elapsed = time.monotonic() - began
    with pytest.raises(RequestTimeout) as caught:
        run(test, attempt_timeout_s=0.5)
    assert caught.value.status == 408
    assert 0.8 <= test.elapsed < 2.0
    assert [x["status"] for x in caught.value.metadata["attempts"]] == ["timeout", "timeout"]


def test_open_breaker_skips_the_endpoint(sandbox):
    a, b = sandbox_endpoint(sandbox, "br-a"), sandbox_endpoint(sandbox, "br-b")

    async def test(upstream):
        for _ in range(5):
            upstream.health.record_failure(a.id)
        return await upstream.complete(request(), [a, b], **call_kwargs())
    result = run(test)
    assert statuses(result) == [("br-a", "circuit_open"), ("br-b", 200)]
    assert sandbox.control.requests("br-a") == []


def test_connection_refused_falls_back(sandbox):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = sandbox_endpoint(sandbox, "cr-a")
    dead = replace(dead, provider=replace(dead.provider, base_url=f"http://127.0.0.1:{port}"))
    b = sandbox_endpoint(sandbox, "cr-b")

    async def test(upstream):
        return await upstream.complete(request(), [dead, b], **call_kwargs())
    result = run(test)
    assert result.endpoint is b
    assert statuses(result) == [("cr-a", "connect_error"), ("cr-b", 200)]
