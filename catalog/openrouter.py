"""OpenRouter-shaped JSON for `/v1/models` and `/v1/models/{author}/{slug}/endpoints`.

Pure functions over snapshot views (no database), so the gateway can answer from memory.
Prices are what the caller pays: every amount passes through `caller_price_of(nanos, endpoint)`
(billing's margin; the identity by default) and is rendered as USD per token (per request / per
image for those two) as an exact decimal string by `core.money`, never through a float.

Our extensions beyond OpenRouter's schema: `object`/`owned_by` (OpenAI's model object), and on
each endpoint `provider_slug`, `available`, `is_sandbox`, `region` and `data_policy`.
`latency_last_30m` and `uptime_last_30m` carry our 1-hour window (we roll up 5m, 1h and 1d).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from catalog.snapshot import EndpointView, HealthView, ModelView, RoutingSnapshot, is_routable
from core.money import api_usd, api_usd_per_token

# (list price in nanos, its endpoint) -> the caller's price in nanos.
CallerPriceOf = Callable[[int, EndpointView], int]

# OpenRouter's `Parameter` enum: parameters outside it are not listed.
OPENROUTER_PARAMETERS = frozenset({
    "temperature", "top_p", "top_k", "min_p", "top_a", "frequency_penalty", "presence_penalty",
    "repetition_penalty", "max_tokens", "max_completion_tokens", "logit_bias", "logprobs",
    "top_logprobs", "prediction", "seed", "response_format", "structured_outputs", "stop",
    "tools", "tool_choice", "parallel_tool_calls", "include_reasoning", "reasoning",
    "reasoning_effort", "web_search_options", "verbosity",
})
QUANTIZATIONS = frozenset({"int4", "int8", "fp4", "mxfp4", "nvfp4", "fp6", "fp8", "mxfp8",
                           "fp16", "bf16", "fp32"})
_MODALITY_ORDER = ("text", "image", "file", "audio", "video")


def list_price_of(nanos: int, endpoint: EndpointView) -> int:
    """The default `caller_price_of`: the list price, no margin."""
    return nanos


def _sorted_modalities(modalities) -> list[str]:
    return sorted(modalities, key=lambda m: (_MODALITY_ORDER.index(m)
                                             if m in _MODALITY_ORDER else 99, m))


def _tokenizer(model: ModelView) -> str:
    name = model.slug.split("/", 1)[-1]
    if model.author == "openai":
        return "GPT"
    if model.author == "anthropic":
        return "Claude"
    if model.author == "google":
        return "Gemma" if name.startswith("gemma") else "Gemini"
    if model.author == "x-ai":
        return "Grok"
    if model.author == "qwen":
        return "Qwen3" if name.startswith("qwen3") else "Qwen"
    if model.author == "deepseek":
        return "DeepSeek"
    if model.author == "mistralai":
        return "Mistral"
    if model.author == "meta-llama":
        return "Llama4" if name.startswith("llama-4") else "Llama3"
    return "Other"


def _architecture(model: ModelView) -> dict:
    inputs = _sorted_modalities(model.input_modalities)
    outputs = _sorted_modalities(model.output_modalities)
    return {
        "modality": f"{'+'.join(inputs)}->{'+'.join(outputs)}",
        "input_modalities": inputs,
        "output_modalities": outputs,
        "tokenizer": _tokenizer(model),
        "instruct_type": None,
    }


def pricing(endpoint: EndpointView, caller_price_of: CallerPriceOf = list_price_of) -> dict:
    """The caller's prices of one endpoint, OpenRouter's `pricing` object."""
    p = endpoint.price
    out = {
        "prompt": api_usd_per_token(caller_price_of(p.input_nanos_per_m, endpoint)),
        "completion": api_usd_per_token(caller_price_of(p.output_nanos_per_m, endpoint)),
        "request": api_usd(caller_price_of(p.request_nanos, endpoint)),
        "image": api_usd(caller_price_of(p.image_nanos, endpoint)),
    }
    if p.cache_read_nanos_per_m:
        out["input_cache_read"] = api_usd_per_token(
            caller_price_of(p.cache_read_nanos_per_m, endpoint))
    if p.cache_write_nanos_per_m:
        out["input_cache_write"] = api_usd_per_token(
            caller_price_of(p.cache_write_nanos_per_m, endpoint))
    if p.reasoning_nanos_per_m:
        out["internal_reasoning"] = api_usd_per_token(
            caller_price_of(p.reasoning_nanos_per_m, endpoint))
    return out


def top_endpoint(model: ModelView) -> EndpointView | None:
    """The endpoint a default request would prefer: the cheapest routable one, else cheapest."""
    if not model.endpoints:
        return None
    pool = [e for e in model.endpoints if is_routable(e)] or list(model.endpoints)
    return min(pool, key=lambda e: (e.price.input_nanos_per_m + e.price.output_nanos_per_m,
                                    e.id))


def _parameters(parameters) -> list[str]:
    return sorted(p for p in parameters if p in OPENROUTER_PARAMETERS)


def model_payload(model: ModelView, caller_price_of: CallerPriceOf = list_price_of) -> dict:
    """One OpenRouter `Model` object (also an OpenAI model object: id, object, created)."""
    top = top_endpoint(model)
    return {
        "id": model.slug,
        "canonical_slug": model.slug,
        "object": "model",
        "owned_by": model.author,
        "name": model.name,
        "created": model.created_at_epoch,
        "description": model.description,
        "context_length": model.context_length,
        "architecture": _architecture(model),
        "pricing": pricing(top, caller_price_of) if top else {"prompt": "0", "completion": "0"},
        "top_provider": {
            "context_length": top.context_length if top else None,
            "max_completion_tokens": (top.max_output_tokens or None) if top else None,
            "is_moderated": False,
        },
        "per_request_limits": None,
        "supported_parameters": _parameters(model.supported_parameters),
        "default_parameters": None,
        "supported_voices": None,
        "expiration_date": None,
        "links": {"details": f"/v1/models/{model.slug}/endpoints"},
    }


def models_list_payload(snapshot: RoutingSnapshot,
                        caller_price_of: CallerPriceOf = list_price_of) -> dict:
    """`GET /v1/models`: OpenAI's list (`object`, `data`) with OpenRouter's fields."""
    data = [model_payload(m, caller_price_of)
            for m in sorted(snapshot.models.values(), key=lambda m: m.slug)]
    return {"object": "list", "data": data, "total_count": len(data), "links": {"next": None}}


def _uptime(health: Mapping[str, HealthView], window: str) -> float | None:
    view = health.get(window)
    if view is None or view.uptime_bps is None or not view.sample_count:
        return None
    return view.uptime_bps / 100


def _latency(health: Mapping[str, HealthView]) -> dict | None:
    view = health.get("30m")
    if view is None or not view.sample_count or view.p50_latency_ms is None:
        return None
    return {"p50": view.p50_latency_ms, "p75": view.p75_latency_ms,
            "p90": view.p90_latency_ms, "p99": view.p99_latency_ms}


def _throughput(health: Mapping[str, HealthView]) -> dict | None:
    """Tokens per second over 30 minutes; pN is the speed N % of answers reached."""
    view = health.get("30m")
    if view is None or not view.sample_count or view.p50_tokens_per_s is None:
        return None
    return {"p50": view.p50_tokens_per_s, "p75": view.p75_tokens_per_s,
            "p90": view.p90_tokens_per_s, "p99": view.p99_tokens_per_s}


def endpoint_payload(model: ModelView, endpoint: EndpointView,
                     caller_price_of: CallerPriceOf = list_price_of,
                     health: Mapping[str, HealthView] | None = None) -> dict:
    health = health or {}
    provider = endpoint.provider
    return {
        "name": f"{provider.name} | {model.slug}",
        "model_id": model.slug,
        "model_name": model.name,
        "context_length": endpoint.context_length,
        "max_prompt_tokens": endpoint.context_length,
        "max_completion_tokens": endpoint.max_output_tokens or None,
        "pricing": pricing(endpoint, caller_price_of),
        "provider_name": provider.name,
        "tag": provider.slug,
        "quantization": endpoint.quantization if endpoint.quantization in QUANTIZATIONS
        else None,
        "supported_parameters": _parameters(endpoint.supported_parameters),
        "status": 0 if is_routable(endpoint) else -1,
        "uptime_last_5m": _uptime(health, "5m"),
        "uptime_last_30m": _uptime(health, "30m"),
        "uptime_last_1d": _uptime(health, "1d"),
        "latency_last_30m": _latency(health),
        "throughput_last_30m": _throughput(health),
        "supports_implicit_caching": endpoint.price.cache_read_nanos_per_m > 0,
        "provider_slug": provider.slug,
        "available": provider.available,
        "is_sandbox": provider.is_sandbox,
        "region": endpoint.region or None,
        "data_policy": {"retention_days": provider.retention_days,
                        "trains_on_data": provider.trains_on_data, "zdr": provider.zdr},
    }


def endpoints_listing_payload(model: ModelView,
                              caller_price_of: CallerPriceOf = list_price_of,
                              health: Mapping[int, Mapping[str, HealthView]] | None = None
                              ) -> dict:
    """`GET /v1/models/{author}/{slug}/endpoints`: `{"data": ListEndpointsResponse}`."""
    health = health or {}
    return {"data": {
        "id": model.slug,
        "name": model.name,
        "created": model.created_at_epoch,
        "description": model.description,
        "architecture": _architecture(model),
        "endpoints": [endpoint_payload(model, e, caller_price_of, health.get(e.id))
                      for e in model.endpoints],
    }}
