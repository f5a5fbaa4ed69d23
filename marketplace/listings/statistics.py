"""A vendor's models as the public catalog measures them: requests over 7 days, uptime, p50
latency and list price, from the same readers the /models pages use (the catalog's index and
health rollups, billing's request counts), in a fixed number of queries whatever the models."""

from __future__ import annotations

from dataclasses import dataclass

from billing.selectors.popularity import count_requests_by_model
from catalog import selectors as catalog
from marketplace.listings.selectors import promotable_models
from marketplace.tenancy.models import Organization

UPTIME_WINDOW = "1d"


@dataclass(frozen=True, slots=True)
class ModelStatistics:
    slug: str
    name: str
    requests_7d: int
    uptime_bps: int | None  # sample-weighted over the live endpoints, the last day
    p50_latency_ms: int | None  # the best live endpoint's, as /models shows it
    input_nanos_per_m: int | None  # list price of the endpoint /models lists
    output_nanos_per_m: int | None
    routable: bool


def _list_price(nanos: int, model_slug: str, provider_slug: str) -> int:
    return nanos  # vendors see list prices: what a caller pays adds billing's margin


def model_statistics(org: Organization) -> list[ModelStatistics]:
    slugs = set(promotable_models(org).values_list("slug", flat=True))
    if not slugs:
        return []
    rows = [r for r in catalog.list_model_rows(catalog.get_catalog_stamp()) if r.slug in slugs]
    entries = catalog.build_entries(
        rows, price_of=_list_price, routable_of=catalog.provider_routable,
        margin_of=lambda model, provider: 0, health=catalog.get_measured_speeds(),
        popularity=count_requests_by_model())
    live = {e.slug: [o.endpoint_id for o in e.row.offers if o.live] for e in entries}
    health = catalog.get_endpoint_health([i for ids in live.values() for i in ids])
    result = []
    for entry in entries:
        windows = [health.get(i, {}).get(UPTIME_WINDOW) for i in live[entry.slug]]
        measured = [w for w in windows if w and w.sample_count and w.uptime_bps is not None]
        samples = sum(w.sample_count for w in measured)
        uptime = (sum(w.uptime_bps * w.sample_count for w in measured) + samples // 2) // samples \
            if samples else None
        result.append(ModelStatistics(
            slug=entry.slug, name=entry.name, requests_7d=entry.requests_7d, uptime_bps=uptime,
            p50_latency_ms=entry.latency_ms, input_nanos_per_m=entry.input_nanos_per_m,
            output_nanos_per_m=entry.output_nanos_per_m, routable=entry.routable))
    return result
