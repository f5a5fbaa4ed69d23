"""Reads the routing app offers the dashboard and the management API: the route explainer.

`explain_route` gathers, on the Django side, what the gateway routes with (the catalog's
snapshot, cached per catalog stamp as the gateway caches it; the org's and key's policies;
billing's margins; the catalog's measured health) and hands them to the pure
`routing.explain.explain`, which runs the gateway's own selection code (ARCHITECTURE.md,
"Where a new feature goes"). Always scoped to an org: another org's key is a 404.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

from billing.pricing import caller_price_nanos
from billing.selectors.spend import get_margin_table
from catalog.selectors import build_routing_snapshot, get_catalog_stamp, get_endpoint_health
from catalog.snapshot import EndpointView, RoutingSnapshot
from compliance.selectors import current_org_policy, get_caller_rules, org_rules
from core.compliance_rules import CallerRules
from core.errors import InvalidRequest, NotFound
from marketplace.tenancy.models import Organization
from marketplace.tenancy.selectors import access_api_key
from routing.explain import Explanation, NeutralHealth, explain
from routing.inbound.openai_chat import chat_request_from
from routing.policy import endpoint_label

# Health windows, freshest first: the explainer uses the first one measured.
_WINDOWS = ("5m", "1h", "1d")
_snapshot_lock = threading.Lock()
_snapshot: tuple[str, RoutingSnapshot] | None = None  # (catalog stamp, snapshot)


def routing_snapshot() -> RoutingSnapshot:
    """The catalog's routing snapshot, rebuilt only when the catalog's stamp changes."""
    global _snapshot
    stamp = get_catalog_stamp()
    cached = _snapshot
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _snapshot_lock:
        if _snapshot is None or _snapshot[0] != stamp:
            _snapshot = (stamp, build_routing_snapshot(settings.SANDBOX_BASE_URL or None))
        return _snapshot[1]


def _health(snapshot: RoutingSnapshot, slugs: list[str]) -> NeutralHealth:
    ids = [e.id for slug in slugs if (m := snapshot.model(slug)) for e in m.endpoints]
    figures: dict[int, tuple[float | None, float | None]] = {}
    for endpoint_id, windows in get_endpoint_health(ids).items():
        view = next((windows[w] for w in _WINDOWS if w in windows), None)
        if view is not None:
            ttft = view.p50_ttft_ms / 1000 if view.p50_ttft_ms is not None else None
            tps = float(view.p50_tokens_per_s) if view.p50_tokens_per_s is not None else None
            figures[endpoint_id] = (ttft, tps)
    return NeutralHealth(figures)


def explain_route(org: Organization, *, model: str, provider: Any = None,
                  key_id: int | None = None) -> Explanation:
    """How the gateway would route `model` for this org (and key): candidates and exclusions.

    `provider` is OpenRouter's preferences object, checked by the gateway's own parser
    (InvalidRequest naming the field); an unknown model is an InvalidRequest on `model`;
    a `key_id` outside the org is NotFound.
    """
    request = chat_request_from({"model": model, "provider": provider,
                                 "messages": [{"role": "user", "content": "explain"}]})
    if key_id is not None:
        key = access_api_key(org, key_id)
        rules = get_caller_rules(org.pk, key.pk)
    else:
        rules = CallerRules(org=org_rules(current_org_policy(org.pk)))
    snapshot = routing_snapshot()
    margins = get_margin_table()

    def caller_prices(endpoint: EndpointView) -> tuple[int, int]:
        bps = margins.bps(org.pk, endpoint.model_slug, endpoint.provider.slug)
        return (caller_price_nanos(endpoint.price.input_nanos_per_m, bps),
                caller_price_nanos(endpoint.price.output_nanos_per_m, bps))

    try:
        return explain(snapshot, request, rules=rules,
                       health=_health(snapshot, [request.model, *request.models]),
                       caller_prices=caller_prices)
    except NotFound:
        raise InvalidRequest(f"Model {request.model!r} does not exist.", param="model") from None


def explanation_payload(result: Explanation) -> dict[str, Any]:
    """The JSON body of `POST /api/v1/routing/explain/` (and what the page shows)."""
    error = result.error
    return {
        "model": result.model,
        "status": result.status,
        "error": {"code": error.code, "message": error.message} if error else None,
        "only_first": result.only_first,
        "candidates": [
            {"endpoint": endpoint_label(c.endpoint), "provider": c.endpoint.provider.slug,
             "model": c.endpoint.model_slug, "tier": c.tier, "rule": c.rule,
             "position": c.position, "weight": c.weight, "sort_key": c.sort_key,
             "slow": c.slow, "prompt_nanos_per_m": c.prices[0],
             "completion_nanos_per_m": c.prices[1]}
            for c in result.candidates
        ],
        "excluded": [
            {"endpoint": x.endpoint, "provider": x.provider, "model": x.model,
             "reason": x.reasons[0], "reasons": list(x.reasons)}
            for x in result.excluded
        ],
    }
