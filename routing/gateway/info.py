"""Read-only /v1 endpoints: the model list and a model's endpoints, from the snapshot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from marketplace.errors import NotFound
from routing.gateway.http import send_json

if TYPE_CHECKING:
    from routing.gateway.context import RequestContext
    from routing.gateway.gateway import Gateway

try:  # catalog's OpenRouter-shaped payload builders
    from catalog import openrouter as catalog_payloads
except ImportError:  # not landed yet: the minimal OpenAI-compatible list below
    catalog_payloads = None


def _minimal_model(model) -> dict:
    return {"id": model.slug, "object": "model", "created": model.created_at_epoch,
            "owned_by": model.author, "name": model.name,
            "context_length": model.context_length}


async def list_models(gw: Gateway, ctx: RequestContext) -> None:
    await gw.authenticate(ctx)
    snapshot = gw.catalog.snapshot
    builder = getattr(catalog_payloads, "models_list_payload", None)
    if builder is not None:
        payload = builder(snapshot)
    else:
        payload = {"object": "list",
                   "data": [_minimal_model(m) for m in snapshot.models.values()]}
    await send_json(ctx.send, 200, orjson.dumps(payload), ctx.response_headers())


async def model_endpoints(gw: Gateway, ctx: RequestContext) -> None:
    await gw.authenticate(ctx)
    slug = ctx.scope["path"][len("/v1/models/"):-len("/endpoints")]
    model = gw.catalog.snapshot.model(slug)
    if model is None:
        raise NotFound(f"Model {slug!r} not found.", metadata={"param": "model"})
    builder = getattr(catalog_payloads, "endpoints_listing_payload", None)
    if builder is not None:
        payload = builder(model)
    else:
        payload = {"data": {"id": model.slug, "name": model.name, "endpoints": [
            {"provider_name": e.provider.name, "context_length": e.context_length,
             "max_completion_tokens": e.max_output_tokens} for e in model.endpoints]}}
    await send_json(ctx.send, 200, orjson.dumps(payload), ctx.response_headers())
