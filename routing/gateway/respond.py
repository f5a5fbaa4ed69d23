"""Run an admitted call and answer it, as JSON or as a stream, in either inbound dialect.

The dialect (OpenAI chat completions or Anthropic messages) only decides the bytes: a JSON
renderer for finished completions and a stream encoder for chunks and the closing events.
Everything else (disconnect handling, settlement, the never-silent end of a stream) is here once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import orjson

from core.errors import SwitchyardError
from routing.gateway.call import Call
from routing.gateway.content import StreamTranscript, logs_content, record_content
from routing.gateway.costs import Charge
from routing.gateway.disconnect import DisconnectWatch
from routing.gateway.http import SSE_HEADERS, send_json
from routing.types import Completion, Stream, Usage

T = TypeVar("T")


class StreamEncoder(Protocol):
    def chunk(self, chunk: dict[str, Any]) -> bytes: ...
    def final(self, stream: Stream, usage: Usage, charge: Charge) -> bytes: ...


async def _upstream(call: Call, watch: DisconnectWatch,
                    start: Callable[[], Awaitable[T]]) -> T | None:
    """Start the upstream call; None if the client left first (recorded as cancelled).

    An upstream failure is recorded (or its hold released) before it propagates to be rendered.
    """
    try:
        return await start()
    except SwitchyardError as error:
        await call.fail(error)
        raise
    except asyncio.CancelledError:
        if not watch.uncancel_if_disconnected():
            raise
        await call.fail(None, cancelled=True)
        return None


async def answer_json(call: Call, render: Callable[[Completion, Charge], bytes]) -> None:
    ctx = call.ctx
    async with DisconnectWatch(ctx.receive) as watch:
        completion = await _upstream(call, watch, call.complete)
        if completion is None:
            return
    charge = await call.settle(completion.endpoint, completion.usage, completion.finish_reason,
                               completion.attempts, ttft_ms=None, streamed=False,
                               cancelled=False)
    body = render(completion, charge)
    await send_json(ctx.send, 200, body, ctx.response_headers())
    if logs_content(call):
        record_content(call, orjson.loads(body))


async def answer_stream(call: Call, make_encoder: Callable[[Stream], StreamEncoder]) -> None:
    ctx = call.ctx
    send = ctx.send
    async with DisconnectWatch(ctx.receive) as watch:
        stream = await _upstream(call, watch, call.open_stream)
        if stream is None:
            return
        encoder = make_encoder(stream)
        # From here on the status is 200: failures become a final error event, never a cut.
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*SSE_HEADERS, *ctx.response_headers()]})
        cancelled = False
        chunks = stream.chunks
        transcript = StreamTranscript() if logs_content(call) else None
        try:
            async for batch in chunks:
                if transcript is not None:
                    transcript.add(batch)
                data = b"".join([encoder.chunk(chunk) for chunk in batch])
                if data:
                    await send({"type": "http.response.body", "body": data, "more_body": True})
        except asyncio.CancelledError:
            if not watch.uncancel_if_disconnected():
                raise
            cancelled = True
        finally:
            await chunks.aclose()  # ends the upstream call if we stopped early
    usage = stream.usage or Usage(estimated=True)  # the relay always sets it
    finish = stream.finish_reason or ("cancelled" if cancelled else None)
    charge = await call.settle(stream.endpoint, usage, finish, stream.attempts,
                               ttft_ms=stream.ttft_ms, streamed=True, cancelled=cancelled)
    if not cancelled:
        await send({"type": "http.response.body", "body": encoder.final(stream, usage, charge),
                    "more_body": False})
    if transcript is not None:
        record_content(call, transcript.response(stream, usage, charge))
