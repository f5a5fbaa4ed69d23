"""Small builders for routing snapshots: providers, endpoints, models (plain dataclasses)."""

from __future__ import annotations

from itertools import count

from catalog.snapshot import EndpointView, ModelView, PriceView, ProviderView, RoutingSnapshot
from core.money import usd_to_nanos
from routing.adapters.base import SSEDecoder
from routing.types import ChatRequest, ProviderPrefs

_IDS = count(1)


def provider(slug: str, *, wire_format: str = "openai", base_url: str = "http://127.0.0.1:9",
             **fields) -> ProviderView:
    return ProviderView(id=next(_IDS), slug=slug, name=fields.pop("name", slug.title()),
                        wire_format=wire_format, base_url=base_url, **fields)


def endpoint(model_slug: str, prov: ProviderView, *, input_usd_m: str = "1",
             output_usd_m: str = "2", context_length: int = 128_000,
             max_output_tokens: int = 16_000, upstream_model_id: str | None = None,
             **fields) -> EndpointView:
    """An endpoint priced in USD per million tokens (given as strings, converted exactly)."""
    price = PriceView(price_id=next(_IDS),
                      input_nanos_per_m=usd_to_nanos(input_usd_m),
                      output_nanos_per_m=usd_to_nanos(output_usd_m))
    return EndpointView(id=next(_IDS), model_slug=model_slug, provider=prov,
                        upstream_model_id=upstream_model_id or model_slug.split("/")[-1],
                        context_length=context_length, max_output_tokens=max_output_tokens,
                        price=price, **fields)


def snapshot(*endpoints: EndpointView) -> RoutingSnapshot:
    by_model: dict[str, list[EndpointView]] = {}
    for e in endpoints:
        by_model.setdefault(e.model_slug, []).append(e)
    models = {
        slug: ModelView(slug=slug, name=slug, author=slug.split("/")[0],
                        context_length=max(e.context_length for e in eps),
                        input_modalities=frozenset({"text", "image"}),
                        output_modalities=frozenset({"text"}),
                        supported_parameters=frozenset(), endpoints=tuple(eps))
        for slug, eps in by_model.items()
    }
    return RoutingSnapshot(version="test", models=models,
                           endpoints={e.id: e for e in endpoints})


def chat(model: str = "acme/chat", *, prompt: str = "Hello there", prefs: ProviderPrefs
         | None = None, **fields) -> ChatRequest:
    messages = fields.pop("messages", [{"role": "user", "content": prompt}])
    return ChatRequest(model=model, messages=messages, provider=prefs or ProviderPrefs(),
                       prompt_upper_bytes=fields.pop("prompt_upper_bytes",
                                                     len(prompt.encode())),
                       **fields)


def run_stream(adapter, ep, raw: bytes, piece: int, request=None):
    """Feed `raw` in `piece`-byte slices, as a socket might deliver it."""
    translator = adapter.stream_translator(ep, request or chat(), "gen-1", 1234)
    decoder = SSEDecoder()
    chunks = []
    for start in range(0, len(raw), piece):
        for event, data in decoder.feed(raw[start:start + piece]):
            chunks.extend(translator.feed(event, data))
    for event, data in decoder.close():
        chunks.extend(translator.feed(event, data))
    return translator, chunks
