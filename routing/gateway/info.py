"""Read-only /v1 catalog endpoints: the model list and a model's endpoints, from the snapshot.

Prices are the caller's (billing's margin for the calling org included), rendered by the
catalog's OpenRouter payload builders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson

from core.errors import NotFound
from routing.gateway import seams
from routing.gateway.http import send_json
from routing.gateway.seams import caller_price_nanos, endpoints_listing_payload, models_list_payload

if TYPE_CHECKING:
    from routing.gateway.context import RequestContext
    from routing.gateway.gateway import Gateway
    from routing.gateway.seams import EndpointView


def _caller_pricing(gw: Gateway, org_id: int) -> Callable[[int, EndpointView], int]:
    margins = gw.catalog.margins
    default = gw.config.default_margin_bps

    def price(nanos: int, endpoint: EndpointView) -> int:
        bps = (margins.bps(org_id, endpoint.model_slug, endpoint.provider.slug)
               if margins is not None else default)
        return caller_price_nanos(nanos, bps)

    return price


async def list_models(gw: Gateway, ctx: RequestContext) -> None:
    caller = await gw.authenticate(ctx)
    payload = models_list_payload(gw.catalog.snapshot, _caller_pricing(gw, caller.org_id))
    await send_json(ctx.send, 200, orjson.dumps(payload), ctx.response_headers())


async def model_endpoints(gw: Gateway, ctx: RequestContext) -> None:
    caller = await gw.authenticate(ctx)
    slug = ctx.scope["path"][len("/v1/models/"):-len("/endpoints")]
    model = gw.catalog.snapshot.model(slug)
    if model is None:
        raise NotFound(f"Model {slug!r} not found.", metadata={"param": "model"})
    health = await gw.in_thread(seams.get_endpoint_health, [e.id for e in model.endpoints])
    payload = endpoints_listing_payload(model, _caller_pricing(gw, caller.org_id), health)
    await send_json(ctx.send, 200, orjson.dumps(payload), ctx.response_headers())
