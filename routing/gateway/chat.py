"""POST /v1/chat/completions: OpenAI-compatible, JSON or SSE, with OpenRouter's extensions."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import orjson

from marketplace.errors import SwitchyardError
from routing.gateway.call import Call, usage_payload
from routing.gateway.disconnect import DisconnectWatch
from routing.gateway.http import SSE_DONE, SSE_HEADERS, read_body, send_json
from routing.gateway.parse import parse_chat_body
from routing.types import Usage

if TYPE_CHECKING:
    from routing.gateway.context import RequestContext
    from routing.gateway.gateway import Gateway


async def chat_completions(gw: Gateway, ctx: RequestContext) -> None:
    caller = await gw.authenticate(ctx)
    request = parse_chat_body(await read_body(ctx.receive, gw.config.max_body_bytes))
    call = Call(gw, ctx, caller, request, inbound="chat")
    await call.admit()
    if request.stream:
        await _stream(call)
    else:
        await _complete(call)


async def _complete(call: Call) -> None:
    ctx = call.ctx
    async with DisconnectWatch(ctx.receive) as watch:
        try:
            completion = await call.complete()
        except SwitchyardError as error:
            await call.fail(error)
            raise
        except asyncio.CancelledError:
            if not watch.uncancel_if_disconnected():
                raise
            await call.fail(None, cancelled=True)
            return
    charge = await call.settle(completion.endpoint, completion.usage, completion.finish_reason,
                               completion.attempts, ttft_ms=None, streamed=False,
                               cancelled=False)
    body = completion.body
    body["model"] = completion.endpoint.model_slug
    body["provider"] = completion.endpoint.provider.name
    body["usage"] = usage_payload(completion.usage, charge)
    await send_json(ctx.send, 200, orjson.dumps(body), ctx.response_headers())


def _sse(chunk: dict) -> bytes:
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


async def _stream(call: Call) -> None:
    ctx = call.ctx
    send = ctx.send
    async with DisconnectWatch(ctx.receive) as watch:
        try:
            stream = await call.open_stream()
        except SwitchyardError as error:
            await call.fail(error)
            raise
        except asyncio.CancelledError:
            if not watch.uncancel_if_disconnected():
                raise
            await call.fail(None, cancelled=True)
            return
        # From here on the status is 200: failures become a final SSE error event.
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*SSE_HEADERS, *ctx.response_headers()]})
        cancelled = False
        last = None
        chunks = stream.chunks
        try:
            async for chunk in chunks:
                last = chunk
                await send({"type": "http.response.body", "body": _sse(chunk),
                            "more_body": True})
        except asyncio.CancelledError:
            if not watch.uncancel_if_disconnected():
                raise
            cancelled = True
        finally:
            await chunks.aclose()  # ends the upstream call if we stopped early
    usage = stream.usage
    finish = stream.finish_reason or ("cancelled" if cancelled else None)
    if usage is None:  # the relay always sets it; guard against an engine bug all the same
        usage = Usage(estimated=True)
    charge = await call.settle(stream.endpoint, usage, finish, stream.attempts,
                               ttft_ms=stream.ttft_ms, streamed=True, cancelled=cancelled)
    if cancelled:
        return
    final = {"id": ctx.request_id, "object": "chat.completion.chunk",
             "created": (last or {}).get("created", 0), "model": stream.endpoint.model_slug,
             "provider": stream.endpoint.provider.name, "choices": [],
             "usage": usage_payload(usage, charge)}
    await send({"type": "http.response.body", "body": _sse(final) + SSE_DONE,
                "more_body": False})
