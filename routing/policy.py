"""Choose and rank the endpoints that may serve a request: a pure function of its inputs.

`select_candidates` walks the requested model, then each `models` fallback, and for each one
filters its endpoints (status, breakers, context window and max output, modalities, required
parameters, org policy, the request's `provider` preferences) and ranks what is left:
explicit `order` first, else `sort`, else OpenRouter's default (healthy endpoints in weighted
random order, weight 1/price^2; endpoints with a recent outage after them). `preferred_*`
thresholds then move slow endpoints to the end. No Django, no I/O, no module state: live
health comes in through the `health` argument (see `routing.health.Health`), randomness through
`rng` (the gateway owns the generator). Prices and `max_price` are integer nanos.
See ARCHITECTURE.md for why this module imports nothing of Django's.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from catalog.snapshot import EndpointView, RoutingSnapshot
from core.errors import NoEndpointAvailable, NotFound
from routing.types import ChatRequest, ProviderPrefs

BYTES_PER_TOKEN_MAX = 4  # lower-bound token estimate: no common tokenizer averages more

# (prompt, completion) price per million tokens in nano-USD, as the caller pays (margin in).
CallerPrices = Callable[[EndpointView], tuple[int, int]]
# Returns a reason to exclude the endpoint, or None to allow it.
OrgPolicy = Callable[[EndpointView], str | None]


class HealthView(Protocol):
    def breaker_allows(self, endpoint_id: int) -> bool: ...
    def recent_outage(self, endpoint_id: int) -> bool: ...
    def latency_s(self, endpoint_id: int) -> float | None: ...
    def throughput(self, endpoint_id: int) -> float | None: ...


@dataclass(slots=True)
class Selection:
    ranked: list[EndpointView] = field(default_factory=list)
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (endpoint label, reason)


def endpoint_label(endpoint: EndpointView) -> str:
    """`model@provider` (plus `/region` when the provider runs regional endpoints)."""
    where = endpoint.provider.slug + (f"/{endpoint.region}" if endpoint.region else "")
    return f"{endpoint.model_slug}@{where}"


def list_prices(endpoint: EndpointView) -> tuple[int, int]:
    """The default `caller_prices`: (input, output) list prices per million tokens, no margin."""
    return endpoint.price.input_nanos_per_m, endpoint.price.output_nanos_per_m


def _names(endpoint: EndpointView) -> tuple[str, ...]:
    """What a preference may call this endpoint's provider: slug, name, slug/region."""
    provider = endpoint.provider
    names: tuple[str, ...] = (provider.slug.lower(), provider.name.lower())
    if endpoint.region:
        names += (f"{provider.slug}/{endpoint.region}".lower(),)
    return names


def _matches(endpoint: EndpointView, wanted: list[str]) -> bool:
    names = _names(endpoint)
    return any(w.lower() in names for w in wanted)


def _exclusion(endpoint: EndpointView, request: ChatRequest, prefs: ProviderPrefs,
               health: HealthView, org_policy: OrgPolicy | None,
               price: tuple[int, int], max_price: dict[str, int]) -> str | None:
    """The first reason this endpoint cannot serve the request, or None."""
    provider = endpoint.provider
    if not provider.available:
        return "provider_unavailable"
    if not endpoint.enabled:
        return "endpoint_disabled"
    if not health.breaker_allows(endpoint.id):
        return "circuit_open"
    if prefs.only and not _matches(endpoint, prefs.only):
        return "provider.only"
    if prefs.ignore and _matches(endpoint, prefs.ignore):
        return "provider.ignore"
    prompt_lower_tokens = request.prompt_upper_bytes // BYTES_PER_TOKEN_MAX
    if prompt_lower_tokens + (request.max_tokens or 0) > endpoint.context_length:
        return "context_length"
    if request.max_tokens and endpoint.max_output_tokens \
            and request.max_tokens > endpoint.max_output_tokens:
        return "max_output_tokens"
    if not request.input_modalities <= endpoint.input_modalities:
        return "input_modalities"
    if prefs.require_parameters and not request.used_parameters <= endpoint.supported_parameters:
        return "provider.require_parameters"
    if prefs.data_collection == "deny" and (provider.trains_on_data
                                            or provider.retention_days is None):
        return "provider.data_collection"
    if prefs.zdr and not (provider.zdr or provider.retention_days == 0):
        return "provider.zdr"
    if prefs.quantizations and (endpoint.quantization or "unknown") not in prefs.quantizations:
        return "provider.quantizations"
    if max_price:
        if "prompt" in max_price and price[0] > max_price["prompt"]:
            return "provider.max_price.prompt"
        if "completion" in max_price and price[1] > max_price["completion"]:
            return "provider.max_price.completion"
        if "request" in max_price and endpoint.price.request_nanos > max_price["request"]:
            return "provider.max_price.request"
        if "image" in max_price and endpoint.price.image_nanos > max_price["image"]:
            return "provider.max_price.image"
    if org_policy is not None:
        reason = org_policy(endpoint)
        if reason:
            return f"org_policy.{reason}"
    return None


def _blended(price: tuple[int, int]) -> int:
    return price[0] + price[1]


def _weighted_order(endpoints: list[EndpointView], prices: dict[int, tuple[int, int]],
                    rng: random.Random) -> list[EndpointView]:
    """Weighted random order without replacement, weight 1/price^2 (Efraimidis-Spirakis).

    Each endpoint draws the key u^(1/w) and the keys sort descending, which samples the whole
    order in one pass with P(first) = w / sum(w). Keys are compared as logs,
    log(u)/w = log(u) * price^2, because u^(1/w) underflows for such small weights. Free
    endpoints count as a 1-nano price: they dominate but stay comparable.
    """
    if len(endpoints) < 2:
        return list(endpoints)
    draw, log = rng.random, math.log
    keyed = []
    for endpoint in endpoints:
        prompt, completion = prices[endpoint.id]
        price = float(prompt + completion) or 1.0
        keyed.append((log(1.0 - draw()) * price * price, endpoint))
    keyed.sort(key=_first, reverse=True)
    return [endpoint for _, endpoint in keyed]


def _first(item: tuple[float, EndpointView]) -> float:
    return item[0]


def _sorted_by(how: str, endpoints: list[EndpointView], prices: dict[int, tuple[int, int]],
               health: HealthView) -> list[EndpointView]:
    """Deterministic sort; endpoints with no figure yet go after those measured."""
    if how == "price":
        return sorted(endpoints, key=lambda e: (_blended(prices[e.id]), e.id))
    if how == "throughput":
        def by_throughput(e: EndpointView) -> tuple[bool, float, int]:
            tps = health.throughput(e.id)
            return (tps is None, -(tps or 0.0), e.id)
        return sorted(endpoints, key=by_throughput)
    if how == "latency":
        def by_latency(e: EndpointView) -> tuple[bool, float, int]:
            latency = health.latency_s(e.id)
            return (latency is None, latency or 0.0, e.id)
        return sorted(endpoints, key=by_latency)
    raise ValueError(f"Unknown sort {how!r}")


def _default_order(endpoints: list[EndpointView], prices: dict[int, tuple[int, int]],
                   health: HealthView, rng: random.Random) -> list[EndpointView]:
    healthy: list[EndpointView] = []
    shaky: list[EndpointView] = []
    for e in endpoints:
        (shaky if health.recent_outage(e.id) else healthy).append(e)
    return _weighted_order(healthy, prices, rng) + _sorted_by("price", shaky, prices, health)


def _slow(endpoint: EndpointView, prefs: ProviderPrefs, health: HealthView) -> bool:
    """Misses a `preferred_*` threshold on measured figures (unmeasured is not slow)."""
    if prefs.preferred_max_latency_s is not None:
        latency = health.latency_s(endpoint.id)
        if latency is not None and latency > prefs.preferred_max_latency_s:
            return True
    if prefs.preferred_min_throughput is not None:
        tps = health.throughput(endpoint.id)
        if tps is not None and tps < prefs.preferred_min_throughput:
            return True
    return False


def _rank(endpoints: list[EndpointView], prefs: ProviderPrefs,
          prices: dict[int, tuple[int, int]], health: HealthView, rng: random.Random,
          excluded: list[tuple[str, str]]) -> list[EndpointView]:
    if prefs.order:
        first: list[EndpointView] = []
        taken: set[int] = set()
        for wanted in prefs.order:
            for endpoint in endpoints:
                if endpoint.id not in taken and _matches(endpoint, [wanted]):
                    first.append(endpoint)
                    taken.add(endpoint.id)
        rest = [e for e in endpoints if e.id not in taken]
        if not prefs.allow_fallbacks:
            excluded.extend((endpoint_label(e), "provider.allow_fallbacks") for e in rest)
            rest = []
        elif prefs.sort:
            rest = _sorted_by(prefs.sort, rest, prices, health)
        else:
            rest = _default_order(rest, prices, health, rng)
        ranked = first + rest
    elif prefs.sort:
        ranked = _sorted_by(prefs.sort, endpoints, prices, health)
    else:
        ranked = _default_order(endpoints, prices, health, rng)
    if not prefs.order and not prefs.allow_fallbacks and len(ranked) > 1:
        # No backup providers: only the primary choice may be tried.
        excluded.extend((endpoint_label(e), "provider.allow_fallbacks") for e in ranked[1:])
        ranked = ranked[:1]
    if prefs.preferred_max_latency_s is not None or prefs.preferred_min_throughput is not None:
        fast = [e for e in ranked if not _slow(e, prefs, health)]
        ranked = fast + [e for e in ranked if _slow(e, prefs, health)]
    return ranked


def select_candidates(snapshot: RoutingSnapshot, request: ChatRequest, *, health: HealthView,
                      rng: random.Random, org_policy: OrgPolicy | None = None,
                      caller_prices: CallerPrices = list_prices) -> Selection:
    """The endpoints to try, best first: every endpoint of the model, then of each fallback.

    Raises NotFound (404) when neither the model nor any fallback exists, and
    NoEndpointAvailable (503) when every endpoint was excluded; its metadata lists
    `{"endpoint", "reason"}` for each exclusion.
    """
    prefs = request.provider
    max_price = prefs.max_price
    selection = Selection()
    known = False
    for slug in _model_slugs(request):
        model = snapshot.model(slug)
        if model is None:
            selection.excluded.append((slug, "unknown_model"))
            continue
        known = True
        prices: dict[int, tuple[int, int]] = {}
        allowed: list[EndpointView] = []
        for endpoint in model.endpoints:
            price = prices[endpoint.id] = caller_prices(endpoint)
            reason = _exclusion(endpoint, request, prefs, health, org_policy, price, max_price)
            if reason is None:
                allowed.append(endpoint)
            else:
                selection.excluded.append((endpoint_label(endpoint), reason))
        if not model.endpoints:
            selection.excluded.append((slug, "no_endpoints"))
        if allowed:
            selection.ranked.extend(
                _rank(allowed, prefs, prices, health, rng, selection.excluded))
    if not known:
        raise NotFound(f"Model {request.model!r} does not exist.",
                       metadata={"param": "model"})
    if not selection.ranked:
        reasons = sorted({reason for _, reason in selection.excluded})
        raise NoEndpointAvailable(
            "No endpoint satisfies the request's constraints (" + ", ".join(reasons) + ").",
            metadata={"excluded": [{"endpoint": label, "reason": reason}
                                   for label, reason in selection.excluded]},
        )
    return selection


def _model_slugs(request: ChatRequest) -> list[str]:
    slugs = [request.model]
    slugs.extend(m for m in request.models if m not in slugs)
    return slugs
