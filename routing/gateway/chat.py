"""POST /v1/chat/completions: OpenAI-compatible, JSON or SSE, with OpenRouter's extensions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from routing.gateway.call import Call, usage_payload
from routing.gateway.costs import Charge
from routing.gateway.http import SSE_DONE, read_body
from routing.gateway.records import start_record
from routing.gateway.respond import answer_json, answer_stream
from routing.inbound.openai_chat import parse_chat_body
from routing.types import Completion, Stream, Usage

if TYPE_CHECKING:
    from routing.gateway.context import RequestContext
    from routing.gateway.gateway import Gateway


async def chat_completions(gw: Gateway, ctx: RequestContext) -> None:
    caller = await gw.authenticate(ctx)
    start_record(ctx, caller)  # every authenticated request is recorded
    body = await read_body(ctx.receive, gw.config.max_body_bytes)
    request = parse_chat_body(body)
    call = Call(gw, ctx, caller, request, body)
    await call.admit()
    if request.stream:
        await answer_stream(call, _OpenAIStream)
    else:
        await answer_json(call, _render)


def _render(completion: Completion, charge: Charge) -> bytes:
    body = completion.body
    body["model"] = completion.endpoint.model_slug
    body["provider"] = completion.endpoint.provider.name
    body["usage"] = usage_payload(completion.usage, charge)
    return orjson.dumps(body)


class _OpenAIStream:
    __slots__ = ("_id", "_created")

    def __init__(self, stream: Stream):
        self._id = ""
        self._created = 0

    def chunk(self, chunk: dict[str, Any]) -> bytes:
        self._id = chunk.get("id", self._id)
        self._created = chunk.get("created", self._created)
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    def final(self, stream: Stream, usage: Usage, charge: Charge) -> bytes:
        """The usage chunk (empty `choices`), always sent, then `[DONE]`."""
        endpoint = stream.endpoint
        final = {"id": self._id, "object": "chat.completion.chunk", "created": self._created,
                 "model": endpoint.model_slug, "provider": endpoint.provider.name,
                 "choices": [], "usage": usage_payload(usage, charge)}
        return b"data: " + orjson.dumps(final) + b"\n\n" + SSE_DONE
