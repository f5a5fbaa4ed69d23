"""Choose and rank the endpoints that may serve a request: a pure function of its inputs.

`select_candidates` walks the requested model, then each `models` fallback. A model the
caller's policies deny (org allow/deny lists, the key's model list) is skipped; if they deny
every requested model the answer is 403. Each remaining model's endpoints are filtered (status,
breakers, context window and max output, modalities, the request's `provider` preferences,
then the org's and the key's policies: providers, regions, zero data retention, training) and
what is left is ranked: explicit `order` first, else `sort`, else OpenRouter's default (healthy
endpoints in weighted random order, weight 1/price^2; endpoints with a recent outage after
them). `preferred_*` thresholds then move slow endpoints to the end.

Policies only narrow: org, then key, then the request, each removes endpoints and none adds
one back. The caller's rules (`core.compliance_rules.CallerRules`) come from memory, so no
request reads the database for them (ARCHITECTURE.md, "The hot path").

`exclusion_reasons` names every reason an endpoint is excluded; the gateway stops at the first
(cheap), and `routing.explain` and the 503 list them all. No Django, no I/O, no module state:
live health comes in through the `health` argument (see `routing.health.Health`), randomness
through `rng` (the gateway owns the generator). Prices and `max_price` are integer nanos.
See ARCHITECTURE.md for why this module imports nothing of Django's.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from catalog.snapshot import EndpointView, ProviderView, RoutingSnapshot
from core.compliance_rules import (
    NO_RULES,
    CallerRules,
    KeyRules,
    OrgRules,
    org_endpoint_reasons,
    org_model_reasons,
    runs_only_within,
)
from core.errors import ModelNotAllowed, NoEndpointAvailable, NotFound
from routing.ranking import HealthView, default_order, is_slow, sorted_by
from routing.types import ChatRequest, ProviderPrefs

BYTES_PER_TOKEN_MAX = 4  # lower-bound token estimate: no common tokenizer averages more

# (prompt, completion) price per million tokens in nano-USD, as the caller pays (margin in).
CallerPrices = Callable[[EndpointView], tuple[int, int]]


@dataclass(slots=True)
class Selection:
    ranked: list[EndpointView] = field(default_factory=list)
    # (endpoint label or model slug, the first reason it was excluded)
    excluded: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Excluded:
    """One endpoint (or, with no endpoint to name, a model) and every reason it is excluded."""

    endpoint: str  # endpoint_label(), or the model slug for an unknown or endpointless model
    provider: str  # provider slug; "" for a model
    model: str
    reasons: tuple[str, ...]


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


def matches(endpoint: EndpointView, wanted: list[str]) -> bool:
    """True if a preference list names this endpoint's provider (by slug, name, slug/region)."""
    names = _names(endpoint)
    return any(w.lower() in names for w in wanted)


def endpoint_regions(endpoint: EndpointView) -> tuple[str, ...]:
    """Where the endpoint runs: its own region, else every region its provider runs in."""
    return (endpoint.region,) if endpoint.region else endpoint.provider.regions


def _within(endpoint: EndpointView, allowed: frozenset[str]) -> bool:
    """Runs only in allowed regions (`core.compliance_rules.runs_only_within`)."""
    return runs_only_within(endpoint_regions(endpoint), allowed)


def _retains_nothing(provider: ProviderView) -> bool:
    return provider.zdr or provider.retention_days == 0


def model_reasons(slug: str, rules: CallerRules) -> list[str]:
    """Every policy that denies the model `slug` (empty: allowed)."""
    key = rules.key
    reasons = org_model_reasons(rules.org, slug)
    if key.models and slug not in key.models:
        reasons.append("key_policy.models")
    return reasons


class Filters:
    """What may exclude an endpoint for one request, gathered once per request (cheaply: the
    gateway builds one per request, and a request without policies must cost what it did)."""

    __slots__ = ("request", "prefs", "prompt_lower_tokens", "org", "key", "preferred",
                 "policies")

    def __init__(self, request: ChatRequest, rules: CallerRules):
        self.request = request
        prefs = self.prefs = request.provider
        self.prompt_lower_tokens = request.prompt_upper_bytes // BYTES_PER_TOKEN_MAX
        org, key = rules.org, rules.key
        # None: that policy excludes no endpoint (the common case, checked once per endpoint).
        self.org: OrgRules | None = org if (
            org.provider_allow or org.provider_deny or org.regions or org.require_zdr
            or org.deny_training) else None
        self.key: KeyRules | None = key if key.providers or key.regions else None
        # Set when the org keeps fallbacks inside the request's preferred providers and the
        # request names some (`order` and `only`).
        self.preferred: list[str] | None = [*prefs.order, *prefs.only] if (
            not org.fallbacks_outside_preferred and (prefs.order or prefs.only)) else None
        self.policies = self.org is not None or self.key is not None \
            or self.preferred is not None


def exclusion_reasons(endpoint: EndpointView, f: Filters, price: tuple[int, int],
                      health: HealthView, every: bool = True) -> list[str]:
    """Why this endpoint cannot serve the request: every reason, or (`every=False`) the reasons
    of the first group that has one (status, then the request, then the policies)."""
    provider = endpoint.provider
    out: list[str] = []
    if not provider.available:
        out.append("provider_unavailable")
    if not endpoint.enabled:
        out.append("endpoint_disabled")
    if not health.breaker_allows(endpoint.id):
        out.append("circuit_open")
    if out and not every:
        return out
    request, prefs = f.request, f.prefs
    if prefs.only and not matches(endpoint, prefs.only):
        out.append("provider.only")
    if prefs.ignore and matches(endpoint, prefs.ignore):
        out.append("provider.ignore")
    if f.prompt_lower_tokens + (request.max_tokens or 0) > endpoint.context_length:
        out.append("context_length")
    if request.max_tokens and endpoint.max_output_tokens \
            and request.max_tokens > endpoint.max_output_tokens:
        out.append("max_output_tokens")
    if not request.input_modalities <= endpoint.input_modalities:
        out.append("input_modalities")
    if prefs.require_parameters and not request.used_parameters <= endpoint.supported_parameters:
        out.append("provider.require_parameters")
    if prefs.data_collection == "deny" and (provider.trains_on_data
                                            or provider.retention_days is None):
        out.append("provider.data_collection")
    if prefs.zdr and not _retains_nothing(provider):
        out.append("provider.zdr")
    if prefs.quantizations and (endpoint.quantization or "unknown") not in prefs.quantizations:
        out.append("provider.quantizations")
    max_price = prefs.max_price
    if max_price:
        if "prompt" in max_price and price[0] > max_price["prompt"]:
            out.append("provider.max_price.prompt")
        if "completion" in max_price and price[1] > max_price["completion"]:
            out.append("provider.max_price.completion")
        if "request" in max_price and endpoint.price.request_nanos > max_price["request"]:
            out.append("provider.max_price.request")
        if "image" in max_price and endpoint.price.image_nanos > max_price["image"]:
            out.append("provider.max_price.image")
    if not f.policies or (out and not every):
        return out
    org = f.org
    if org is not None:
        # The same check compliance uses to keep a model an org cannot reach off its pages.
        out.extend(org_endpoint_reasons(
            org, provider_slug=provider.slug, regions=endpoint_regions(endpoint),
            zdr=provider.zdr, retention_days=provider.retention_days,
            trains_on_data=provider.trains_on_data))
    key = f.key
    if key is not None:
        if key.providers and provider.slug not in key.providers:
            out.append("key_policy.providers")
        if key.regions and not _within(endpoint, key.regions):
            out.append("key_policy.regions")
    if f.preferred is not None and not matches(endpoint, f.preferred):
        out.append("org_policy.fallbacks_outside_preferred")
    return out


def split_order(endpoints: list[EndpointView], order: list[str]
                ) -> tuple[list[EndpointView], list[EndpointView]]:
    """(the endpoints `order` names, in its order; the rest, as given)."""
    first: list[EndpointView] = []
    taken: set[int] = set()
    for wanted in order:
        for endpoint in endpoints:
            if endpoint.id not in taken and matches(endpoint, [wanted]):
                first.append(endpoint)
                taken.add(endpoint.id)
    return first, [e for e in endpoints if e.id not in taken]


def _rank(endpoints: list[EndpointView], prefs: ProviderPrefs,
          prices: dict[int, tuple[int, int]], health: HealthView, rng: random.Random,
          excluded: list[tuple[str, str]]) -> list[EndpointView]:
    # routing/explain.py describes this ranking rule by rule: change both together.
    if prefs.order:
        first, rest = split_order(endpoints, prefs.order)
        if not prefs.allow_fallbacks:
            excluded.extend((endpoint_label(e), "provider.allow_fallbacks") for e in rest)
            rest = []
        elif prefs.sort:
            rest = sorted_by(prefs.sort, rest, prices, health)
        else:
            rest = default_order(rest, prices, health, rng)
        ranked = first + rest
    elif prefs.sort:
        ranked = sorted_by(prefs.sort, endpoints, prices, health)
    else:
        ranked = default_order(endpoints, prices, health, rng)
    if not prefs.order and not prefs.allow_fallbacks and len(ranked) > 1:
        # No backup providers: only the primary choice may be tried.
        excluded.extend((endpoint_label(e), "provider.allow_fallbacks") for e in ranked[1:])
        ranked = ranked[:1]
    if prefs.preferred_max_latency_s is not None or prefs.preferred_min_throughput is not None:
        fast = [e for e in ranked if not is_slow(e, prefs, health)]
        ranked = fast + [e for e in ranked if is_slow(e, prefs, health)]
    return ranked


def select_candidates(snapshot: RoutingSnapshot, request: ChatRequest, *, health: HealthView,
                      rng: random.Random, rules: CallerRules = NO_RULES,
                      caller_prices: CallerPrices = list_prices) -> Selection:
    """The endpoints to try, best first: every endpoint of the model, then of each fallback.

    Raises NotFound (404) when neither the model nor any fallback exists, ModelNotAllowed
    (403) when the caller's policies deny every one that exists, and NoEndpointAvailable (503)
    when every endpoint was excluded; the 403's and 503's metadata name each constraint and
    what it excluded (`excluded_by`), the 503's every reason per endpoint (`excluded`).
    """
    prefs = request.provider
    filters = Filters(request, rules)
    org, key = rules.org, rules.key
    model_policy = bool(org.model_allow or org.model_deny or key.models)
    selection = Selection()
    excluded = selection.excluded
    known = allowed_model = False
    for slug in model_slugs(request):
        model = snapshot.model(slug)
        if model is None:
            excluded.append((slug, "unknown_model"))
            continue
        known = True
        if model_policy:
            denied = model_reasons(slug, rules)
            if denied:
                excluded.append((slug, denied[0]))
                continue
        allowed_model = True
        prices: dict[int, tuple[int, int]] = {}
        allowed: list[EndpointView] = []
        for endpoint in model.endpoints:
            price = prices[endpoint.id] = caller_prices(endpoint)
            reasons = exclusion_reasons(endpoint, filters, price, health, False)
            if reasons:
                excluded.append((endpoint_label(endpoint), reasons[0]))
            else:
                allowed.append(endpoint)
        if not model.endpoints:
            excluded.append((slug, "no_endpoints"))
        if allowed:
            selection.ranked.extend(_rank(allowed, prefs, prices, health, rng, excluded))
    if not known:
        raise NotFound(f"Model {request.model!r} does not exist.",
                       metadata={"param": "model"})
    if not allowed_model:
        raise _denied(snapshot, request, rules)
    if not selection.ranked:
        raise _no_endpoint(every_exclusion(snapshot, request, rules=rules, health=health,
                                           caller_prices=caller_prices),
                           _no_route_note(snapshot, request))
    return selection


def every_exclusion(snapshot: RoutingSnapshot, request: ChatRequest, *, rules: CallerRules,
                    health: HealthView, caller_prices: CallerPrices = list_prices
                    ) -> list[Excluded]:
    """Every endpoint of the requested models that the filters exclude, with every reason.

    A denied model's endpoints carry the model's policy reasons first. Exclusions made while
    ranking (`provider.allow_fallbacks`) are not filters and are not listed here.
    """
    filters = Filters(request, rules)
    rows: list[Excluded] = []
    for slug in model_slugs(request):
        model = snapshot.model(slug)
        if model is None:
            rows.append(Excluded(slug, "", slug, ("unknown_model",)))
            continue
        denied = model_reasons(slug, rules)
        if not model.endpoints:
            rows.append(Excluded(slug, "", slug, (*denied, "no_endpoints")))
        for endpoint in model.endpoints:
            reasons = denied + exclusion_reasons(endpoint, filters, caller_prices(endpoint),
                                                 health)
            if reasons:
                rows.append(Excluded(endpoint_label(endpoint), endpoint.provider.slug, slug,
                                     tuple(reasons)))
    return rows


def excluded_by(rows: list[Excluded]) -> dict[str, list[str]]:
    """Each constraint -> what it excluded (endpoint labels, or model slugs), in order."""
    by: dict[str, list[str]] = {}
    for row in rows:
        for reason in row.reasons:
            by.setdefault(reason, []).append(row.endpoint)
    return by


def _summary(by: dict[str, list[str]]) -> str:
    return "; ".join(f"{reason} excluded {', '.join(what)}" for reason, what in by.items())


def _no_route_note(snapshot: RoutingSnapshot, request: ChatRequest
                   ) -> tuple[str, dict[str, str | None]] | None:
    """When the requested model has no routable endpoint here: the sentence that says so and
    names the snapshot's precomputed alternative, and the metadata that carries it."""
    slug = request.model
    if slug not in snapshot.unroutable:
        return None
    alternative = snapshot.unroutable[slug]
    advice = (f"a routable alternative is {alternative!r}" if alternative
              else "no routable model replaces it")
    return (f"Model {slug!r} has no routable endpoint here (none of its providers is available "
            f"on this server); {advice}.",
            {"routable_alternative": alternative})


def _no_endpoint(rows: list[Excluded],
                 note: tuple[str, dict[str, str | None]] | None = None) -> NoEndpointAvailable:
    by = excluded_by(rows)
    message = f"No endpoint satisfies the request's constraints: {_summary(by)}."
    extra: dict[str, str | None] = {}
    if note is not None:
        message, extra = f"{note[0]} {message}", note[1]
    return NoEndpointAvailable(
        message,
        metadata={
            "excluded": [{"endpoint": row.endpoint, "provider": row.provider,
                          "reason": row.reasons[0], "reasons": list(row.reasons)}
                         for row in rows],
            "excluded_by": by,
            **extra,
        },
    )


def _denied(snapshot: RoutingSnapshot, request: ChatRequest,
            rules: CallerRules) -> ModelNotAllowed:
    """The 403 when policies deny every requested model that exists."""
    by: dict[str, list[str]] = {}
    for slug in model_slugs(request):
        if snapshot.model(slug) is not None:
            for reason in model_reasons(slug, rules):
                by.setdefault(reason, []).append(slug)
    return ModelNotAllowed(
        f"Your policy does not allow this model: {_summary(by)}.",
        metadata={"excluded_by": by},
    )


def model_slugs(request: ChatRequest) -> list[str]:
    slugs = [request.model]
    slugs.extend(m for m in request.models if m not in slugs)
    return slugs
