"""The sandbox provider server: one aiohttp app, every provider under ``/<slug>/``.

Each provider request is recorded, gets its fault plan (faults.py), is parsed by its wire
module into a wire-neutral ``Ask``, answered by engine.py and written back by ``_send`` with
the plan's timing, reset and malformed-body faults applied.
"""

import asyncio
import itertools
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, Protocol

import orjson
from aiohttp import web

from routing.sandbox import anthropic_wire, control_api, engine, gemini_wire, openai_wire
from routing.sandbox.common import Meta, WireError, dumps
from routing.sandbox.engine import Answer, Ask
from routing.sandbox.faults import Plan, Registry

REGISTRY = web.AppKey("registry", Registry)
_IDS = itertools.count(1)
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


class Wire(Protocol):
    """What a wire module (openai_wire, anthropic_wire, gemini_wire) provides."""

    ID_PREFIX: str
    CALL_PREFIX: str

    def parse(self, body: Any, request: web.Request, match: dict[str, str]) -> Ask: ...
    def render(self, ask: Ask, answer: Answer, meta: Meta) -> dict[str, Any]: ...
    def stream(self, ask: Ask, answer: Answer, meta: Meta,
               body: dict[str, Any]) -> list[bytes]: ...
    def error(self, status: int, message: str, param: str | None = None) -> dict[str, Any]: ...
    def malformed(self, streaming: bool) -> bytes: ...


async def _body(request: web.Request) -> tuple[Any, bool]:
    raw = await request.read()
    if not raw:
        return None, False
    try:
        return orjson.loads(raw), True
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace"), False


async def serve(request: web.Request, wire: Wire,
                extra: dict[str, str] | None = None) -> web.StreamResponse:
    slug = request.match_info["slug"]
    provider = request.app[REGISTRY].get(slug)
    body, parsed = await _body(request)
    provider.record(request.method, request.path, request.query, request.headers, body)
    plan = provider.plan()
    if plan.latency_ms:
        await asyncio.sleep(plan.latency_ms / 1000)
    if plan.stall:
        return await _stall(request)
    if plan.status is not None:
        return await _error(request, wire, plan, plan.status, "sandbox injected fault")
    try:
        if not parsed:
            raise WireError(400, "the request body is not valid JSON")
        ask = wire.parse(body, request, extra or {})
    except WireError as exc:
        return await _error(request, wire, plan, exc.status, exc.message, exc.param)
    number = next(_IDS)
    meta: Meta = {"id": f"{wire.ID_PREFIX}sbx{number:012d}", "created": int(time.time()),
            "call_id": f"{wire.CALL_PREFIX}sbx{number:012d}"}
    answer = engine.answer(ask, provider.cache, meta["call_id"])
    provider.served += 1
    if plan.malformed_json:
        return await _send(request, plan, [wire.malformed(ask.stream)], ask.stream and ask.sse)
    if ask.stream:
        return await _send(request, plan, wire.stream(ask, answer, meta, body), ask.sse, True)
    return await _send(request, plan, [dumps(wire.render(ask, answer, meta))], False)


async def _error(request: web.Request, wire: Wire, plan: Plan, status: int, message: str,
                 param: str | None = None) -> web.Response:
    body = plan.error_body if plan.error_body is not None else wire.error(status, message, param)
    data = body.encode() if isinstance(body, str) else dumps(body)
    headers = {"Content-Type": "application/json"}
    if plan.retry_after_s is not None:
        headers["Retry-After"] = _seconds(plan.retry_after_s)
    if plan.ttft_ms:
        await asyncio.sleep(plan.ttft_ms / 1000)
    return web.Response(status=status, body=data, headers=headers)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


async def _stall(request: web.Request) -> web.Response:
    """Never answer; return only once the client has gone (or the server stops)."""
    while request.transport is not None and not request.transport.is_closing():
        await asyncio.sleep(0.05)
    return web.Response(status=499)


async def _send(request: web.Request, plan: Plan, frames: list[bytes], sse: bool,
                streaming: bool = False) -> web.StreamResponse:
    """Write ``frames`` (one JSON body, or stream frames) with the plan's timing faults, and
    reset the connection or stall after the plan's byte budget."""
    streaming = streaming or sse
    cut = plan.reset_after_bytes if plan.reset_after_bytes is not None else plan.stall_after_bytes
    if cut is None and not streaming:
        if plan.ttft_ms:
            await asyncio.sleep(plan.ttft_ms / 1000)
        return web.Response(body=frames[0], content_type="application/json")
    if cut == 0 and plan.reset_after_bytes is not None:
        return await _reset(request)
    response = web.StreamResponse(headers=_SSE_HEADERS if sse else None)
    if not sse:
        response.content_type = "application/json"
    if not streaming:
        response.content_length = len(frames[0])
    await response.prepare(request)
    if plan.ttft_ms:
        await asyncio.sleep(plan.ttft_ms / 1000)
    for index, frame in enumerate(frames):
        if index and plan.inter_chunk_ms:
            await asyncio.sleep(plan.inter_chunk_ms / 1000)
        if cut is not None and len(frame) >= cut:
            if cut:
                await response.write(frame[:cut])
            if plan.reset_after_bytes is not None:
                return await _reset(request)
            await _stall(request)
            return response
        await response.write(frame)
        if cut is not None:
            cut -= len(frame)
    await response.write_eof()
    return response


async def _reset(request: web.Request) -> NoReturn:
    """Abort the TCP connection with a RST after letting what was written reach the peer."""
    await asyncio.sleep(0.02)
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    raise asyncio.CancelledError


def _handler(wire: Wire, extra: Callable[[web.Request], dict[str, str]] | None = None
             ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await serve(request, wire, extra(request) if extra else None)

    return handle


async def _models(request: web.Request) -> web.Response:
    if "anthropic-version" in request.headers:
        return web.json_response(anthropic_wire.models(request), dumps=_json_text)
    return web.json_response(openai_wire.models(request), dumps=_json_text)


def _json_text(value: object) -> str:
    return orjson.dumps(value).decode()


async def _gemini(request: web.Request) -> web.StreamResponse:
    try:
        model, method = gemini_wire.split_target(request)
    except WireError as exc:
        return web.json_response(gemini_wire.error(exc.status, exc.message), status=exc.status,
                                 dumps=_json_text)
    return await serve(request, gemini_wire, {"model": model, "method": method})


def create_app() -> web.Application:
    app = web.Application(client_max_size=32 * 1024 * 1024)
    app[REGISTRY] = Registry()
    control_api.add_routes(app, REGISTRY)
    app.router.add_post("/{slug}/v1/chat/completions", _handler(openai_wire))
    app.router.add_get("/{slug}/v1/models", _models)
    app.router.add_post("/{slug}/v1/messages", _handler(anthropic_wire))
    app.router.add_post("/{slug}/v1beta/models/{target}", _gemini)
    return app
