"""Why the router would choose what it chooses: the candidates of a request, with the rule that
orders them, and every endpoint it excludes, with every reason. Pure, as routing/policy.py is.

`explain` runs the gateway's own `select_candidates` (for the answer it would give: 200, 403 or
503) and the same filters (`exclusion_reasons`, all reasons rather than the first), then
describes `_rank` tier by tier instead of drawing: tiers are tried in order; within a tier the
order is fixed (`order`, `sort`, endpoints after a recent outage, by price) or, for the default
weighted draw, random with P(first) = weight / sum of the tier's weights (1/price^2). Endpoints
that miss a `preferred_*` threshold form tiers of their own after all the others.
Used by the explain API and page (routing/api/, routing/views.py); no Django here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from catalog.snapshot import EndpointView, RoutingSnapshot
from core.compliance_rules import CallerRules
from core.errors import ModelNotAllowed, NoEndpointAvailable, SwitchyardError
from routing.policy import (
    CallerPrices,
    Excluded,
    Filters,
    endpoint_label,
    exclusion_reasons,
    list_prices,
    model_reasons,
    model_slugs,
    select_candidates,
    split_order,
)
from routing.ranking import HealthView, draw_weight, is_slow, sort_key, sorted_by, split_outages
from routing.types import ChatRequest, ProviderPrefs

WEIGHTED = "weighted"


@dataclass(frozen=True, slots=True)
class Candidate:
    endpoint: EndpointView
    prices: tuple[int, int]  # caller prices, nanos per million tokens (prompt, completion)
    tier: int  # 0-based; tiers are tried in order, a fallback model's after the model's
    rule: str  # "order", "sort:price" / "sort:throughput" / "sort:latency", "weighted",
    #            "recent_outage" (after the weighted draw, by price)
    position: int | None  # 1-based within the tier, for a fixed order
    weight: float | None  # a weighted tier's P(drawn first within the tier)
    sort_key: float | None  # the `sort` figure (None: not measured, sorted last)
    slow: bool  # misses a preferred_* threshold: tried after every endpoint that does not


@dataclass(slots=True)
class Explanation:
    model: str
    status: int  # what the gateway would answer: 200, 403 or 503
    error: SwitchyardError | None
    candidates: list[Candidate] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    # `allow_fallbacks: false` without `order`: only the first-ranked candidate is tried.
    only_first: bool = False


class NeutralHealth:
    """Health for an explanation outside the gateway: every breaker closed, no recent outage,
    and the catalog's measured figures where there are some (endpoint id -> (seconds to the
    first token, tokens per second))."""

    def __init__(self, figures: dict[int, tuple[float | None, float | None]] | None = None):
        self._figures = figures or {}

    def breaker_allows(self, endpoint_id: int) -> bool:
        return True

    def recent_outage(self, endpoint_id: int) -> bool:
        return False

    def latency_s(self, endpoint_id: int) -> float | None:
        return self._figures.get(endpoint_id, (None, None))[0]

    def throughput(self, endpoint_id: int) -> float | None:
        return self._figures.get(endpoint_id, (None, None))[1]


def explain(snapshot: RoutingSnapshot, request: ChatRequest, *, rules: CallerRules,
            health: HealthView, caller_prices: CallerPrices = list_prices) -> Explanation:
    """Raises NotFound (404) as the gateway does when no requested model exists."""
    status, error = 200, None
    try:
        select_candidates(snapshot, request, health=health, rng=random.Random(0), rules=rules,
                          caller_prices=caller_prices)
    except (ModelNotAllowed, NoEndpointAvailable) as exc:
        status, error = exc.status, exc
    result = Explanation(model=request.model, status=status, error=error)
    filters = Filters(request, rules)
    prefs = request.provider
    tier = 0
    for slug in model_slugs(request):
        model = snapshot.model(slug)
        if model is None:
            result.excluded.append(Excluded(slug, "", slug, ("unknown_model",)))
            continue
        denied = model_reasons(slug, rules)
        if not model.endpoints:
            result.excluded.append(Excluded(slug, "", slug, (*denied, "no_endpoints")))
        prices = {e.id: caller_prices(e) for e in model.endpoints}
        allowed: list[EndpointView] = []
        for endpoint in model.endpoints:
            reasons = denied + exclusion_reasons(endpoint, filters, prices[endpoint.id], health)
            if reasons:
                result.excluded.append(_row(endpoint, reasons))
            else:
                allowed.append(endpoint)
        if allowed:
            tier = _describe(allowed, prefs, prices, health, tier, result)
    return result


def _row(endpoint: EndpointView, reasons: list[str]) -> Excluded:
    return Excluded(endpoint_label(endpoint), endpoint.provider.slug, endpoint.model_slug,
                    tuple(reasons))


def _describe(endpoints: list[EndpointView], prefs: ProviderPrefs,
              prices: dict[int, tuple[int, int]], health: HealthView, tier: int,
              result: Explanation) -> int:
    """Add one model's candidates, tier by tier, as `policy._rank` orders them; returns the
    next tier number."""
    tiers: list[tuple[str, list[EndpointView]]] = []
    if prefs.order:
        first, rest = split_order(endpoints, prefs.order)
        tiers.append(("order", first))
        if not prefs.allow_fallbacks:
            result.excluded.extend(_row(e, ["provider.allow_fallbacks"]) for e in rest)
        elif prefs.sort:
            tiers.append((f"sort:{prefs.sort}", sorted_by(prefs.sort, rest, prices, health)))
        else:
            tiers.extend(_default_tiers(rest, prices, health))
    elif prefs.sort:
        tiers.append((f"sort:{prefs.sort}", sorted_by(prefs.sort, endpoints, prices, health)))
    else:
        tiers.extend(_default_tiers(endpoints, prices, health))
    tiers = [(rule, members) for rule, members in tiers if members]
    if not prefs.order and not prefs.allow_fallbacks and len(endpoints) > 1:
        # Only the primary choice is tried: the first tier's draw, or its first endpoint.
        rule, members = tiers[0]
        kept = members if rule == WEIGHTED else members[:1]
        dropped = [e for _, m in tiers for e in m if e not in kept]
        result.excluded.extend(_row(e, ["provider.allow_fallbacks"]) for e in dropped)
        tiers = [(rule, kept)]
        result.only_first = result.only_first or len(kept) > 1
    elif prefs.preferred_max_latency_s is not None or prefs.preferred_min_throughput is not None:
        fast = [(rule, [e for e in m if not is_slow(e, prefs, health)]) for rule, m in tiers]
        slow = [(rule, [e for e in m if is_slow(e, prefs, health)]) for rule, m in tiers]
        tiers = [(rule, m) for rule, m in fast + slow if m]
    for rule, members in tiers:
        weights = [draw_weight(prices[e.id]) for e in members] if rule == WEIGHTED else []
        total = sum(weights)
        for i, endpoint in enumerate(members):
            key = sort_key(prefs.sort, endpoint, prices, health) \
                if rule.startswith("sort:") and prefs.sort else None
            result.candidates.append(Candidate(
                endpoint=endpoint, prices=prices[endpoint.id], tier=tier, rule=rule,
                position=None if rule == WEIGHTED else i + 1,
                weight=weights[i] / total if rule == WEIGHTED else None,
                sort_key=None if key is None or key[0] else abs(key[1]),
                slow=is_slow(endpoint, prefs, health),
            ))
        tier += 1
    return tier


def _default_tiers(endpoints: list[EndpointView], prices: dict[int, tuple[int, int]],
                   health: HealthView) -> list[tuple[str, list[EndpointView]]]:
    healthy, shaky = split_outages(endpoints, health)
    return [(WEIGHTED, healthy), ("recent_outage", sorted_by("price", shaky, prices, health))]
