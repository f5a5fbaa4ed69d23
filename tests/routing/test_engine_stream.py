"""Upstream.stream against the real sandbox: retries only before the first byte."""

import asyncio
import contextlib

from routing.sandbox.engine import DEFAULT_REPLY_TOKENS
from routing.sandbox.tokens import count_text
from tests.openrouter_schema import errors
from tests.routing.engine_helpers import (
    PROMPT,
    call_kwargs,
    drain,
    request,
    run,
    sandbox_endpoint,
)


def text_of(chunks):
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks
                   if c.get("choices"))


def test_stream_relays_chunks_and_reports_usage(sandbox):
    a = sandbox_endpoint(sandbox, "ss-ok")

    async def test(upstream):
        stream = await upstream.stream(request(stream=True), [a], request_id="gen-s1",
                                       **call_kwargs())
        chunks = await drain(stream)
        return stream, chunks, upstream.health.stats(a.id)
    stream, chunks, stats = run(test)
    assert stream.endpoint is a
    assert {c["id"] for c in chunks} == {"gen-s1"}
    assert text_of(chunks).startswith("Sandbox reply to: Hello")
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert stream.finish_reason == "stop" and stream.error is None
    assert stream.usage.prompt_tokens == count_text(PROMPT)
    assert stream.usage.completion_tokens == DEFAULT_REPLY_TOKENS
    assert stream.usage.estimated is False
    assert stats.successes == 1 and stats.ttft_ms is not None
    sent = sandbox.control.requests("ss-ok")[-1]["body"]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


def test_reset_before_the_first_byte_falls_back_transparently(sandbox):
    a, b = sandbox_endpoint(sandbox, "rs-a"), sandbox_endpoint(sandbox, "rs-b")
    sandbox.control.set_fault("rs-a", reset_after_bytes=100)  # inside the first event

    async def test(upstream):
        stream = await upstream.stream(request(stream=True), [a, b], **call_kwargs())
        return stream, await drain(stream)
    stream, chunks = run(test)
    assert stream.endpoint is b
    assert [(x.provider, x.status) for x in stream.attempts] == [("rs-a", "reset"),
                                                                  ("rs-b", 200)]
    assert stream.error is None and stream.finish_reason == "stop"
    assert all(c["choices"][0]["finish_reason"] != "error" for c in chunks)
    assert stream.usage.completion_tokens == DEFAULT_REPLY_TOKENS


def test_reset_after_the_first_byte_ends_with_an_error_chunk(sandbox):
    a, b = sandbox_endpoint(sandbox, "rs-c"), sandbox_endpoint(sandbox, "rs-d")
    sandbox.control.set_fault("rs-c", reset_after_bytes=600)  # two events, then a RST

    async def test(upstream):
        stream = await upstream.stream(request(stream=True), [a, b], **call_kwargs())
        return stream, await drain(stream), upstream.health.stats(a.id)
    stream, chunks, stats = run(test)
    assert stream.endpoint is a  # no fallback once the client may have seen a byte
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "error"
    assert last["error"]["code"] == 502
    assert last["error"]["metadata"]["error_type"] == "provider_unavailable"
    assert [e for c in chunks for e in errors(c, "ChatStreamChunk")] == []
    assert stream.finish_reason == "error"
    assert stream.error.status == "reset"
    relayed = text_of(chunks)
    assert relayed and not relayed.startswith("Sandbox reply to: Hello there")  # cut short
    assert stream.usage.estimated is True
    assert stream.usage.completion_tokens == count_text(relayed)
    assert stream.usage.prompt_tokens == count_text(PROMPT)
    assert sandbox.control.requests("rs-d") == []
    assert stats.failures == 1


def test_stall_before_first_byte_times_out_then_falls_back(sandbox):
    a, b = sandbox_endpoint(sandbox, "sl-a"), sandbox_endpoint(sandbox, "sl-b")
    sandbox.control.set_fault("sl-a", stall=True)

    async def test(upstream):
        stream = await upstream.stream(request(stream=True), [a, b], **call_kwargs())
        return stream, await drain(stream)
    stream, _ = run(test, attempt_timeout_s=0.4)
    assert stream.endpoint is b
    assert [x.status for x in stream.attempts] == ["timeout", 200]
    assert stream.finish_reason == "stop"


def test_stall_after_first_byte_ends_with_a_timeout_error_chunk(sandbox):
    a = sandbox_endpoint(sandbox, "sl-c")
    sandbox.control.set_fault("sl-c", inter_chunk_ms=1500)

    async def test(upstream):
        stream = await upstream.stream(request(stream=True), [a], **call_kwargs())
        return stream, await drain(stream)
    stream, chunks = run(test, stream_idle_timeout_s=0.3)
    assert chunks[-1]["choices"][0]["finish_reason"] == "error"
    assert stream.error.status == "timeout"
    assert stream.usage.estimated is True


def test_malformed_stream_before_first_chunk_falls_back(sandbox):
    a, b = sandbox_endpoint(sandbox, "ms-a"), sandbox_endpoint(sandbox, "ms-b")
    sandbox.control.set_fault("ms-a", malformed_json=True)

    async def test(upstream):
        stream = await upstream.stream(request(stream=True), [a, b], **call_kwargs())
        return stream, await drain(stream)
    stream, _ = run(test)
    assert stream.endpoint is b
    assert [x.status for x in stream.attempts] == ["malformed", 200]


def test_cancelled_consumer_closes_the_upstream_and_frees_the_connection(sandbox):
    a = sandbox_endpoint(sandbox, "cx-a")
    sandbox.control.set_fault("cx-a", inter_chunk_ms=200)

    async def test(upstream):
        stream = await upstream.stream(request(stream=True), [a], **call_kwargs())

        async def consume():
            async for _ in stream.chunks:
                pass
        task = asyncio.create_task(consume())
        await asyncio.sleep(0.3)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await stream.aclose()
        # The pool holds no connection to the sandbox any more: the stream's was closed,
        # not returned half-read.
        in_use = upstream.client.in_use
        after = await upstream.complete(request(), [a], **call_kwargs())
        return stream, in_use, after
    stream, in_use, after = run(test)
    assert in_use == 0
    assert stream.error is None and stream.finish_reason is None
    assert stream.usage.estimated is True and stream.usage.completion_tokens >= 1
    assert after.endpoint is a  # the breaker probe or pool was not left stuck


def test_cancel_while_waiting_for_the_first_byte(sandbox):
    a = sandbox_endpoint(sandbox, "cx-b")
    sandbox.control.set_fault("cx-b", ttft_ms=5000)

    async def test(upstream):
        task = asyncio.create_task(upstream.stream(request(stream=True), [a], **call_kwargs()))
        await asyncio.sleep(0.3)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return upstream.client.in_use
        raise AssertionError("the stream call finished although it was cancelled")
    assert run(test) == 0


def test_reset_mid_stream_on_the_anthropic_wire_ends_with_an_error_chunk(sandbox):
    a = sandbox_endpoint(sandbox, "rs-anth", wire_format="anthropic",
                         upstream_model_id="claude-sonnet-4-5")
    sandbox.control.set_fault("rs-anth", reset_after_bytes=900)

    async def test(upstream):
        stream = await upstream.stream(request(stream=True), [a], **call_kwargs())
        return stream, await drain(stream)
    stream, chunks = run(test)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0]["finish_reason"] == "error"
    assert stream.error.status == "reset" and stream.finish_reason == "error"
    # message_start carried the input tokens; the output was cut short, so it is our count.
    assert stream.usage.estimated is True
    assert stream.usage.prompt_tokens == count_text(PROMPT)
    assert stream.usage.completion_tokens == count_text(text_of(chunks))
