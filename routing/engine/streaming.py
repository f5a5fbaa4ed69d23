"""Relaying an upstream stream after its first chunk: from here on nothing can be retried.

Whatever goes wrong later (a reset, a stall, an in-band error event, the upstream closing
without its end marker, the overall deadline) ends the chunk iterator with one final chunk whose
`finish_reason` is "error" and sets `Stream.error`; the caller turns it into the final SSE error
event, so a client never sees a silent cut or a hang. Usage is then what the provider reported,
else our own count of what was relayed (flagged `estimated`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any

from routing.adapters.base import SSEDecoder, StreamTranslator
from routing.engine.failures import IO_ERRORS, error_type, failure_from_exception, report
from routing.engine.http1 import Response
from routing.types import Stream, UpstreamFailure

# Called once when the stream ends: "ok", the failure, or "abandoned" (the consumer left).
Verdict = Callable[[UpstreamFailure | str], None]


def error_chunk(translator: StreamTranslator, failure: UpstreamFailure) -> dict[str, Any]:
    """OpenRouter's mid-stream error: an `error` object beside a choice finishing "error"."""
    code = 408 if failure.status == "timeout" else 502
    return {
        "id": translator.completion_id,
        "object": "chat.completion.chunk",
        "created": translator.created,
        "model": translator.endpoint.model_slug,
        "error": {"code": code, "message": failure.message,
                  "metadata": {"error_type": error_type(failure),
                               "provider_code": str(failure.status),
                               "provider": translator.endpoint.provider.slug,
                               "provider_name": translator.endpoint.provider.name}},
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
    }


async def read_first_chunks(response: Response, decoder: SSEDecoder,
                            translator: StreamTranslator) -> list[dict[str, Any]]:
    """Read until the upstream produced at least one chunk (the caller bounds the time)."""
    while True:
        data = await response.readany()
        if not data:
            chunks = [c for event, payload in decoder.close()
                      for c in translator.feed(event, payload)]
            if chunks:
                return chunks
            raise UpstreamFailure("reset", "The provider closed the stream before any data.",
                                  True)
        chunks = [c for event, payload in decoder.feed(data)
                  for c in translator.feed(event, payload)]
        if chunks:
            return chunks


async def relay(response: Response, decoder: SSEDecoder,
                translator: StreamTranslator, first: list[dict[str, Any]], stream: Stream, *,
                idle_timeout_s: float, deadline: float, verdict: Verdict,
                secret: str | None = None) -> AsyncGenerator[list[dict[str, Any]], None]:
    """Yield the chunks of each upstream read together, so the client gets them in one write
    (a socket write per chunk cost more than the rest of relaying a chunk)."""
    clean = False
    decided = False
    try:
        yield first
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UpstreamFailure("timeout", "The request deadline passed mid-stream.", False)
            async with asyncio.timeout(min(idle_timeout_s, remaining)):
                data = await response.readany()
            events = decoder.feed(data) if data else decoder.close()
            batch = [chunk for event, payload in events
                     for chunk in translator.feed(event, payload)]
            if batch:
                yield batch
            if not data:
                break
        if not translator.done and translator.finish_reason is None:
            raise UpstreamFailure("reset", "The provider ended the stream without finishing.",
                                  True)
        stream.usage = translator.final_usage()
        stream.finish_reason = translator.finish_reason or "stop"
        clean = True
        decided = True
        verdict("ok")
    except IO_ERRORS as exc:
        failure = failure_from_exception(exc)
        report(failure, translator.endpoint.provider, secret)
        stream.error = failure
        stream.finish_reason = "error"
        stream.usage = translator.final_usage()
        decided = True
        verdict(failure)
        yield [error_chunk(translator, failure)]
    finally:
        if not decided:  # the consumer went away (cancelled or closed us)
            if stream.usage is None:  # meter what was relayed so far
                stream.usage = translator.final_usage()
            verdict("abandoned")
        if clean:
            response.release()  # fully read: the connection goes back to the pool
        else:
            response.close()  # mid-body: the connection cannot be reused

