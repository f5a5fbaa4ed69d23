"""The measured telemetry the auction's quality score and gates read, per placement context.

A context's category is the models that have every capability the page is about (all models
when it names none). For each of them, from the last day's endpoint health (catalog) and the
last 7 days of observability's `ModelTaskDay` (every org's requests per day, model and
task, counts only), across every org:

- uptime and error rate: sample-weighted over the model's live endpoints, so each endpoint
  counts as much as the traffic it carried (what a caller of the model saw on average), not the
  single best endpoint (which a vendor could flatter with one idle, healthy endpoint);
- p50 latency: the sample-weighted mean of the endpoints' p50s (an approximation of the
  model's median: the health rollups keep no mergeable sketch);
- error rate: from those daily counts for the context's task when the page is about exactly
  one task, else for every task, when the model had requests in the window; otherwise the
  endpoints' own measured error rate;
- price: the blended list price (3 input : 1 output tokens) of its cheapest live endpoint.

The category's medians are over its measured models. Everything is computed once a minute per
context (Django's cache), in a fixed handful of queries whatever the number of candidates.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from fractions import Fraction

from django.core.cache import cache

from catalog import selectors as catalog
from marketplace.listings.auction import Category, Telemetry
from observability.model_quality import model_error_counts

CACHE_SECONDS = 60
HEALTH_WINDOW = "1d"


@dataclass(frozen=True, slots=True)
class CategoryTelemetry:
    category: Category
    models: dict[str, Telemetry]  # every model of the category (unmeasured ones too)


def blended_price(input_nanos_per_m: int, output_nanos_per_m: int) -> int:
    """Nanos per million tokens at 3 input tokens to 1 output token, rounded half up."""
    return (2 * (3 * input_nanos_per_m + output_nanos_per_m) + 4) // 8


def _in_category(row: catalog.ModelRow, capabilities: frozenset[str]) -> bool:
    return capabilities <= row.capabilities and any(o.live for o in row.offers)


def _weighted(pairs: list[tuple[int, int]]) -> int | None:
    """The sample-weighted mean of (value, samples) pairs, rounded half up (None: no sample)."""
    total = sum(samples for _, samples in pairs)
    if not total:
        return None
    return (2 * sum(value * samples for value, samples in pairs) + total) // (2 * total)


def _measure(rows: list[catalog.ModelRow], task: str | None) -> dict[str, Telemetry]:
    endpoint_ids = [o.endpoint_id for row in rows for o in row.offers if o.live]
    health = catalog.get_endpoint_health(endpoint_ids)
    errors = model_error_counts([row.slug for row in rows], task=task)
    out = {}
    for row in rows:
        live = [o for o in row.offers if o.live]
        day = [h for o in live if (h := health.get(o.endpoint_id, {}).get(HEALTH_WINDOW))
               and h.sample_count > 0]
        uptime = _weighted([(h.uptime_bps, h.sample_count) for h in day
                            if h.uptime_bps is not None])
        latency = _weighted([(h.p50_latency_ms, h.sample_count) for h in day
                             if h.p50_latency_ms is not None])
        counts = errors.get(row.slug)
        error_rate: Fraction | None = counts.error_rate if counts is not None else None
        if error_rate is None:
            bps = _weighted([(h.error_rate_bps, h.sample_count) for h in day
                             if h.error_rate_bps is not None])
            error_rate = Fraction(bps, 10_000) if bps is not None else None
        cheapest = min((blended_price(o.input_nanos_per_m, o.output_nanos_per_m)
                        for o in live), default=None)
        out[row.slug] = Telemetry(uptime_bps=uptime, p50_latency_ms=latency,
                                  error_rate=error_rate, blended_price_nanos_per_m=cheapest)
    return out


def _median(values: list[int]) -> int | None:
    return statistics.median_low(values) if values else None


def category_telemetry(*, capabilities: frozenset[str], tasks: frozenset[str],
                       stamp: str | None = None) -> CategoryTelemetry:
    """The category of these capabilities, measured; cached a minute per context and catalog
    stamp (`catalog.selectors.get_catalog_stamp()`, read here unless the caller has it)."""
    task = next(iter(tasks)) if len(tasks) == 1 else None
    stamp = stamp or catalog.get_catalog_stamp()
    key = f"listings:quality:{stamp}:{task or ''}:{','.join(sorted(capabilities))}"
    found = cache.get(key)
    if isinstance(found, CategoryTelemetry):
        return found
    rows = [row for row in catalog.list_model_rows(stamp) if _in_category(row, capabilities)]
    models = _measure(rows, task)
    measured = [t for t in models.values() if t.measured]
    category = Category(
        median_latency_ms=_median([t.p50_latency_ms for t in measured
                                   if t.p50_latency_ms is not None]),
        median_price_nanos_per_m=_median([t.blended_price_nanos_per_m for t in measured
                                          if t.blended_price_nanos_per_m is not None]),
    )
    result = CategoryTelemetry(category=category, models=models)
    cache.set(key, result, CACHE_SECONDS)
    return result
