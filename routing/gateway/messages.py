"""POST /v1/messages: Anthropic Messages in and out (streaming events too), any provider.

Parsing and rendering live in routing.inbound.anthropic_messages; this module adds the
gateway's parts: OpenRouter's `provider` object, exact `cost`, and Anthropic-shaped error bodies
(the anthropic SDK reads `{"type": "error", "error": {"type", "message"}}`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from core.errors import SwitchyardError
from core.money import api_usd
from routing.gateway.call import Call
from routing.gateway.costs import Charge
from routing.gateway.http import read_body, send_json
from routing.gateway.records import start_record
from routing.gateway.respond import answer_json, answer_stream
from routing.inbound.anthropic_messages import (
    AnthropicStreamWriter,
    parse_messages_request,
    render_message,
)
from routing.inbound.openai_chat import parse_provider
from routing.inbound.validators import load_json_object
from routing.types import Completion, Stream, Usage

if TYPE_CHECKING:
    from routing.gateway.context import RequestContext
    from routing.gateway.gateway import Gateway


async def messages(gw: Gateway, ctx: RequestContext) -> None:
    try:
        caller = await gw.authenticate(ctx, allow_x_api_key=True)
        start_record(ctx, caller)  # every authenticated request is recorded
        raw = await read_body(ctx.receive, gw.config.max_body_bytes)
        body = load_json_object(raw)
        request = parse_messages_request(body)
        request.provider = parse_provider(body.get("provider"))
        call = Call(gw, ctx, caller, request, raw)
        await call.admit()
        if request.stream:
            await answer_stream(call, _AnthropicStream)
        else:
            await answer_json(call, _render)
    except SwitchyardError as error:
        ctx.answered_error = error  # for the request record: the gateway did not see it
        await send_json(ctx.send, error.status, orjson.dumps(anthropic_error(error)),
                        [*ctx.response_headers(),
                         *((k.lower().encode(), str(v).encode())
                           for k, v in error.headers.items())])


def anthropic_error(error: SwitchyardError) -> dict[str, Any]:
    """Anthropic's error envelope, with OpenRouter's code and metadata beside it."""
    return {"type": "error", "error": {"type": error.type, "message": error.message,
                                       "code": error.status,
                                       "metadata": {"reason": error.code, **error.metadata}}}


def _with_cost(usage: dict[str, Any], charge: Charge) -> dict[str, Any]:
    usage["cost"] = orjson.Fragment(api_usd(charge.charge_nanos))
    usage["is_byok"] = charge.is_byok
    return usage


def _render(completion: Completion, charge: Charge) -> bytes:
    message = render_message(completion.body, completion.usage,
                             model=completion.endpoint.model_slug)
    _with_cost(message["usage"], charge)
    message["provider"] = completion.endpoint.provider.name
    return orjson.dumps(message)


class _AnthropicStream:
    __slots__ = ("_writer",)

    def __init__(self, stream: Stream):
        self._writer = AnthropicStreamWriter("",
                                             stream.endpoint.model_slug)

    def chunk(self, chunk: dict[str, Any]) -> bytes:
        if not self._writer.message_id:
            self._writer.message_id = chunk.get("id", "")
        return self._writer.chunk(chunk)

    def final(self, stream: Stream, usage: Usage, charge: Charge) -> bytes:
        error = stream.error.message if stream.error is not None else None
        return self._writer.finish(usage, stream.finish_reason, error=error)
