"""GET /v1/key, /v1/credits and /v1/generation: the caller's own figures, from billing.

These are not on the hot path: each reads the database once in the gateway's small thread
pool, scoped to the calling key's org (another org's generation id answers 404).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, quote

import orjson

from core.errors import InvalidRequest, NotFound, ServiceUnavailable
from core.money import api_usd
from routing.gateway import seams
from routing.gateway.http import send_json
from routing.gateway.seams import get_key_usage, get_org_credits

if TYPE_CHECKING:
    from routing.gateway.context import RequestContext
    from routing.gateway.gateway import Gateway

T = TypeVar("T")


def _json_usd(nanos: int | None) -> orjson.Fragment | None:
    # A JSON number, exact: the text goes into the body as is, never through a float.
    return None if nanos is None else orjson.Fragment(api_usd(nanos))


async def key_info(gw: Gateway, ctx: RequestContext) -> None:
    caller = await gw.authenticate(ctx)
    usage = await gw.in_thread(get_key_usage, caller.org_id, caller.key_id)
    rpm, tpm = gw.config.limits.for_key(caller.key_id)
    expires = (dt.datetime.fromtimestamp(caller.expires_at_epoch, tz=dt.UTC).isoformat()
               if caller.expires_at_epoch is not None else None)
    data = {
        "label": f"{caller.prefix}...",
        "name": caller.name,
        "limit": _json_usd(usage["limit_nanos"]),
        "limit_reset": usage["limit_period"] if usage["limit_period"] != "total" else None,
        "limit_remaining": _json_usd(usage["limit_remaining_nanos"]),
        "include_byok_in_limit": False,
        "usage": _json_usd(usage["usage_nanos"]),
        "usage_daily": _json_usd(usage["usage_daily_nanos"]),
        "usage_weekly": _json_usd(usage["usage_weekly_nanos"]),
        "usage_monthly": _json_usd(usage["usage_monthly_nanos"]),
        # The list cost of the key's BYOK requests (the org's own provider accounts paid it).
        "byok_usage": _json_usd(usage["byok_usage_nanos"]),
        "byok_usage_daily": _json_usd(usage["byok_usage_daily_nanos"]),
        "byok_usage_weekly": _json_usd(usage["byok_usage_weekly_nanos"]),
        "byok_usage_monthly": _json_usd(usage["byok_usage_monthly_nanos"]),
        "is_free_tier": False,
        "is_management_key": False,
        "is_provisioning_key": False,
        "creator_user_id": None,
        "expires_at": expires,
        # Our limits (OpenRouter's own `rate_limit` is deprecated but still parsed by clients).
        "rate_limit": {"requests": rpm, "interval": "1m",
                       "note": "Requests per minute for this key."},
        "rate_limits": {"requests_per_minute": rpm, "tokens_per_minute": tpm},
    }
    await send_json(ctx.send, 200, orjson.dumps({"data": data}), ctx.response_headers())


async def credits(gw: Gateway, ctx: RequestContext) -> None:
    caller = await gw.authenticate(ctx)
    figures = await gw.in_thread(get_org_credits, caller.org_id)
    data = {"total_credits": _json_usd(figures["total_credits_nanos"]),
            "total_usage": _json_usd(figures["total_usage_nanos"])}
    await send_json(ctx.send, 200, orjson.dumps({"data": data}), ctx.response_headers())


def request_log_url(gw: Gateway, request_id: str) -> str:
    """The dashboard's page of one request (its attempts, and content if logged)."""
    return f"{gw.config.public_url}/requests/{quote(request_id, safe='')}/"


def _generation_payload(record: dict[str, Any], log_url: str) -> dict[str, Any]:
    created = record["created_at"]
    return {
        "id": record["request_id"],
        "request_id": record["request_id"],
        "upstream_id": None,
        "total_cost": _json_usd(record["charge_nanos"]),
        "usage": _json_usd(record["charge_nanos"]),
        "cache_discount": None,
        "upstream_inference_cost": _json_usd(record["upstream_cost_nanos"]),
        "created_at": created.isoformat() if created else "",
        "model": record["served_model"] or record["requested_model"],
        "app_id": None,
        "http_referer": record["app_referer"] or None,
        "streamed": record["streamed"],
        "cancelled": record["cancelled"],
        "provider_name": record["provider_slug"] or None,
        "latency": record["latency_ms"],
        "moderation_latency": None,
        "generation_time": (record["latency_ms"] - record["ttft_ms"]
                            if record["ttft_ms"] is not None else record["latency_ms"]),
        "finish_reason": record["finish_reason"] or None,
        "native_finish_reason": record["finish_reason"] or None,
        "service_tier": None,
        "tokens_prompt": record["prompt_tokens"],
        "tokens_completion": record["completion_tokens"],
        "native_tokens_prompt": record["prompt_tokens"],
        "native_tokens_completion": record["completion_tokens"],
        "native_tokens_completion_images": 0,
        "native_tokens_reasoning": record["reasoning_tokens"],
        "native_tokens_cached": record["cache_read_tokens"],
        "num_media_prompt": None,
        "num_input_audio_prompt": None,
        "num_media_completion": None,
        "num_search_results": None,
        "num_fetches": None,
        "is_byok": record["is_byok"],
        "origin": record["app_referer"] or "",
        "api_type": "completions",
        "provider_responses": None,
        "web_search_engine": None,
        "external_user": None,
        "preset_id": None,
        "router": None,
        "user_agent": None,
        "data_region": "global",
        "workspace_id": None,
        "session_id": None,
        # Our extensions: how it was served and what it cost us, exactly.
        "requested_model": record["requested_model"],
        "endpoint_id": record["endpoint_id"],
        "time_to_first_token": record["ttft_ms"],
        "app_title": record["app_title"] or None,
        "attempts": record["attempts"],
        "estimated": record["estimated"],
        "margin": _json_usd(record["margin_nanos"]),
        "upstream_cost_nanos": record["upstream_cost_nanos"],
        "margin_nanos": record["margin_nanos"],
        "charge_nanos": record["charge_nanos"],
        "write_off_nanos": record["write_off_nanos"],
        # The request log's page of this request, for members of the org signed in.
        "request_log_url": log_url,
    }


def generation_id(ctx: RequestContext) -> str:
    """The `?id=` of /v1/generation and /v1/generation/receipt (400 when absent or unusable)."""
    query = parse_qs(ctx.scope.get("query_string", b"").decode("latin-1"))
    ids: list[str] = query.get("id") or []
    if not ids or not ids[0]:
        raise InvalidRequest("Pass the generation id as ?id=.", param="id")
    if "\x00" in ids[0]:  # PostgreSQL text cannot hold NUL: no id has one
        raise InvalidRequest("A generation id has no NUL characters.", param="id")
    return ids[0][:64]


async def read_generation(gw: Gateway, read: Callable[[int, str], T | None], org_id: int,
                          request_id: str) -> T:
    """`read(org_id, request_id)` in a database thread, once the request's usage is written.

    `read` answers None while there is no usage record of that id in the org: another org's id
    ends as a 404 exactly as a missing one.
    """
    result = await gw.in_thread(read, org_id, request_id)
    if result is None:
        # Settlements are written in batches a few ms after the answer: a caller asking right
        # away must still find a request this process served, whether its settlement still
        # waits or is in the batch being written (flush waits for that batch first). Read
        # again even if nothing is pending now: the batch may have committed after our read.
        try:
            await asyncio.wait_for(asyncio.shield(gw.writer.flush()), gw.config.db_timeout_s)
        except TimeoutError:
            raise ServiceUnavailable("Usage is still being recorded; retry shortly.") from None
        result = await gw.in_thread(read, org_id, request_id)
    if result is None:
        raise NotFound("No generation with this id.", metadata={"param": "id"})
    return result


async def generation(gw: Gateway, ctx: RequestContext) -> None:
    caller = await gw.authenticate(ctx)
    record = await read_generation(gw, seams.get_usage_record, caller.org_id,
                                   generation_id(ctx))
    log_url = request_log_url(gw, record["request_id"])
    payload = {"data": _generation_payload(record, log_url)}
    await send_json(ctx.send, 200, orjson.dumps(payload), ctx.response_headers())
