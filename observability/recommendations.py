"""Organic recommendations (issue 14): cheaper or faster models for what an org already does.

From the org's own request records of the last `WINDOW` (30 days), grouped by task label and
model served, and the success rate every org measured for each model on each task, we look
for models that did the same task at least as well and would have cost the org less for the
same tokens (or answered faster for no more money). Each recommendation carries its figures,
so the dashboard shows the computation, not only the verdict.

Definitions (what the card's "How we computed this" says):
- The org's usage of a (task, model): its records that reached a provider (not our own
  refusals), excluding BYOK requests (their upstream is the org's own provider bill, so their
  charge is only our fee and cannot be compared) and unlabelled ones (task ""). Spend is the
  sum of those records' `cost_nanos` (what the org was charged, as analytics sums it; a row
  standing for several refusals costs nothing, and refusals are excluded anyway); requests are
  SUM(count); tokens are the prompt and completion tokens reported.
- Success rate of a model on a task: over every org's requests in the window (the UTC days
  overlapping it, from the platform-wide `ModelTaskDay` table), served over decided, as
  `observability.model_quality` defines them for sponsored listings too: decided = served +
  failed at a provider (`MODEL_ERROR_TYPES`). Our refusals (the model never saw them),
  requests the client cancelled, bad requests and our own failures say nothing of the model.
  A rate counts only with at least `MIN_SAMPLE` decided requests, for the current model as
  for the alternative.
- An alternative's cost: the org's prompt and completion tokens of that (task, model) priced
  at each routable endpoint of the alternative (list price in force), charged as the gateway
  charges (`billing.pricing.compute_charge` with billing's margin for this org, model and
  provider), rounded once over the whole; the cheapest endpoint is quoted. Cache and
  reasoning prices are not modelled: the org's spend includes any cache discount it got.
- Cheaper: that cost is at least `MIN_SAVING_BPS` below the spend. Faster: the alternative's
  measured p50 latency (the catalog's endpoint health over the last day, the best live
  endpoint with at least `MIN_SAMPLE` samples, as the model pages show it) is at most
  `FASTER_BPS` of the current model's, for no more money.
- Only (task, model) pairs with at least `MIN_SPEND_NANOS` of spend are looked at.

Cost: one aggregate query over the org's records (its org-and-time index), one over the
`ModelTaskDay` rows of the window (kept by the rollup task, shared by all orgs, cached
`QUALITY_CACHE_S`), the catalog's model index
(cached per catalog stamp), the margin table and the measured speeds; an org's result is
cached `ORG_CACHE_S`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from billing.pricing import MarginTable, caller_price_nanos, compute_charge
from billing.selectors.spend import get_margin_table
from catalog.listing import ModelRow, Offer
from catalog.selectors import (
    get_catalog_stamp,
    get_endpoint_health,
    list_model_rows,
    provider_routable,
)
from core.money import (
    NANOS_PER_CENT,
    dashboard_usd,
    dashboard_usd_per_m,
    request_cost_usd,
    usage_cost_nanos,
    usd_to_nanos,
)
from marketplace.tenancy.models import Organization
from observability.model_quality import task_outcomes
from observability.models import REFUSED, RequestRecord
from observability.rollups import group_expression

WINDOW = dt.timedelta(days=30)
MIN_SAMPLE = 20  # requests the model decided, per (task, model), all orgs
MIN_SPEND_NANOS = usd_to_nanos("0.50")  # a (task, model) the org spent less on is not looked at
MIN_SAVING_BPS = 1_000  # cheaper: at least 10% below the spend
FASTER_BPS = 7_500  # faster: p50 at most 75% of the current model's
MAX_RECOMMENDATIONS = 10
ORG_CACHE_S = 300
QUALITY_CACHE_S = 600
BPS = 10_000


@dataclass(frozen=True, slots=True)
class TaskUsage:
    """What the org did with one model for one task in the window."""

    task: str
    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    spend_nanos: int


@dataclass(frozen=True, slots=True)
class Quality:
    """A model's success rate on a task, over every org's requests in the window."""

    requests: int  # the model decided: served, or failed at a provider (model_quality)
    successes: int  # served

    def at_least(self, other: Quality) -> bool:
        """This rate >= other's, exactly (cross-multiplied, no float)."""
        return self.successes * other.requests >= other.successes * self.requests

    @property
    def percent(self) -> str:
        """"98.1%" (a ratio for display, not money)."""
        return f"{100 * self.successes / self.requests:.1f}%" if self.requests else "n/a"


@dataclass(frozen=True, slots=True)
class Quote:
    """The alternative's cheapest routable endpoint for the org's tokens, at the org's price."""

    endpoint_id: int
    provider_slug: str
    input_nanos_per_m: int  # what the org pays per million prompt tokens (list + margin)
    output_nanos_per_m: int
    cost_nanos: int  # the org's tokens at this endpoint, charged as the gateway charges


@dataclass(frozen=True, slots=True)
class Recommendation:
    usage: TaskUsage
    current_quality: Quality
    current_latency_ms: int | None
    alternative: str  # model slug
    alternative_name: str
    quote: Quote
    quality: Quality
    latency_ms: int | None
    cheaper: bool
    faster: bool

    @property
    def savings_nanos(self) -> int:
        return self.usage.spend_nanos - self.quote.cost_nanos

    @property
    def savings_percent(self) -> int:
        """Whole percent saved, rounded down (for the headline)."""
        spend = self.usage.spend_nanos
        return self.savings_nanos * 100 // spend if spend > 0 else 0

    @property
    def headline(self) -> str:
        u = self.usage
        if self.cheaper:
            return (f"{self.alternative} could do your {u.task} for {_usd(self.quote.cost_nanos)}"
                    f" instead of {_usd(u.spend_nanos)}")
        return f"{self.alternative} answers {u.task} requests faster for no more money"

    @property
    def computation(self) -> str:
        """The sentence with every figure: "You spent $412.00 on openai/gpt-4o for ..."."""
        u, q = self.usage, self.quote
        text = (
            f"You spent {_usd(u.spend_nanos)} on {u.model} for {u.task} in the last "
            f"{WINDOW.days} days ({u.requests:,} request{'s' if u.requests != 1 else ''}, "
            f"{_tokens(u.prompt_tokens)} prompt + {_tokens(u.completion_tokens)} completion "
            f"tokens). {self.alternative} would have cost {_usd(q.cost_nanos)} at the same "
            f"tokens (its price: {dashboard_usd_per_m(q.input_nanos_per_m)}/M in, "
            f"{dashboard_usd_per_m(q.output_nanos_per_m)}/M out, via {q.provider_slug}) with a "
            f"{self.quality.percent} success rate on {u.task} vs {self.current_quality.percent}"
            f" (over {self.quality.requests:,} and {self.current_quality.requests:,} requests "
            f"of all organizations).")
        if self.latency_ms is not None and self.current_latency_ms is not None:
            text += (f" Median latency: {self.latency_ms:,} ms vs "
                     f"{self.current_latency_ms:,} ms.")
        return text


@dataclass(frozen=True, slots=True)
class OrgRecommendations:
    recommendations: tuple[Recommendation, ...] = ()
    # The org's labelled tasks by spend, most first (what the sponsored slots target).
    top_tasks: tuple[str, ...] = ()
    top_model: str | None = None
    usage: tuple[TaskUsage, ...] = field(default=())
    # The models that clear the organic bar on one of the org's tasks (at least MIN_SAMPLE
    # decided requests, a success rate at least that of the model the org uses for it): the
    # only ones the card's sponsored slots may show.
    sponsorable: frozenset[str] = frozenset()


def _usd(nanos: int) -> str:
    """Dollars to the cent; under a cent, a request cost's six significant digits (so a
    fraction of a cent never reads "$0.00")."""
    return dashboard_usd(nanos) if abs(nanos) >= NANOS_PER_CENT else request_cost_usd(nanos)


def _tokens(n: int) -> str:
    """2_100_000 -> "2.1M", 12_345 -> "12.3k" (a count for reading, not money)."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1_000:
        return f"{n / 1_000:.1f}k"
    return str(n)


def _window_start(now: dt.datetime) -> dt.datetime:
    return now - WINDOW


def org_task_usage(org_id: int, *, now: dt.datetime) -> list[TaskUsage]:
    """The org's usage per (task, model) in the window, most spend first (one query)."""
    rows = (
        RequestRecord.objects.filter(org_id=org_id, created_at__gte=_window_start(now),
                                     created_at__lte=now, is_byok=False)
        .exclude(outcome=REFUSED).exclude(task="").order_by()
        .annotate(m=group_expression("model"))
        .values("task", "m")
        .annotate(requests=Sum("count"), prompt=Sum("prompt_tokens"),
                  completion=Sum("completion_tokens"), spend=Sum("cost_nanos")))
    usage = [TaskUsage(task=r["task"], model=r["m"], requests=r["requests"] or 0,
                       prompt_tokens=r["prompt"] or 0, completion_tokens=r["completion"] or 0,
                       spend_nanos=r["spend"] or 0) for r in rows if r["m"]]
    return sorted(usage, key=lambda u: (-u.spend_nanos, u.task, u.model))


def task_quality(*, now: dt.datetime) -> dict[tuple[str, str], Quality]:
    """Every model's success rate per labelled task over the window, every org's requests
    (the `ModelTaskDay` table: one grouped query)."""
    return {key: Quality(requests=o.decided, successes=o.served)
            for key, o in task_outcomes(now=now, window=WINDOW).items()}


def cached_task_quality(*, now: dt.datetime | None = None) -> dict[tuple[str, str], Quality]:
    """`task_quality`, shared by every org for QUALITY_CACHE_S."""
    key = "observability:recommendations:quality"
    quality = cache.get(key)
    if quality is None:
        quality = task_quality(now=now or timezone.now())
        cache.set(key, quality, QUALITY_CACHE_S)
    return quality


def _routable(offer: Offer) -> bool:
    return offer.live and provider_routable(offer.provider_slug, offer.provider_status,
                                            offer.provider_is_sandbox)


def quote(org_id: int, model: ModelRow, usage: TaskUsage, margins: MarginTable) -> Quote | None:
    """The cheapest routable endpoint of `model` for the org's tokens (None: none routable)."""
    best: Quote | None = None
    for offer in model.offers:
        if not _routable(offer):
            continue
        bps = margins.bps(org_id, model.slug, offer.provider_slug)
        upstream = usage_cost_nanos(prompt_tokens=usage.prompt_tokens,
                                    completion_tokens=usage.completion_tokens,
                                    input_nanos_per_m=offer.input_nanos_per_m,
                                    output_nanos_per_m=offer.output_nanos_per_m)
        cost = compute_charge(upstream, bps=bps, is_byok=False, byok_fee_bps=0).charge_nanos
        candidate = Quote(endpoint_id=offer.endpoint_id, provider_slug=offer.provider_slug,
                          input_nanos_per_m=caller_price_nanos(offer.input_nanos_per_m, bps),
                          output_nanos_per_m=caller_price_nanos(offer.output_nanos_per_m, bps),
                          cost_nanos=cost)
        if best is None or (cost, offer.endpoint_id) < (best.cost_nanos, best.endpoint_id):
            best = candidate
    return best


def measured_latencies(models: list[ModelRow]) -> dict[int, int]:
    """Each live endpoint's p50 latency over the last day, where at least MIN_SAMPLE requests
    measured it (one query; an hour's few samples say too little about a month)."""
    ids = [o.endpoint_id for m in models for o in m.offers if o.live]
    latencies = {}
    for endpoint_id, windows in get_endpoint_health(ids).items():
        day = windows.get("1d")
        if day is not None and day.sample_count >= MIN_SAMPLE and day.p50_latency_ms is not None:
            latencies[endpoint_id] = day.p50_latency_ms
    return latencies


def _latency(model: ModelRow | None, latencies: dict[int, int]) -> int | None:
    """The model's best live endpoint's measured p50 latency (None: unmeasured)."""
    if model is None:
        return None
    return min((latencies[o.endpoint_id] for o in model.offers
                if o.live and o.endpoint_id in latencies), default=None)


def _best_for(org_id: int, usage: TaskUsage, current: Quality,
              quality: dict[tuple[str, str], Quality], rows: dict[str, ModelRow],
              margins: MarginTable, speeds: dict[int, int]) -> Recommendation | None:
    current_latency = _latency(rows.get(usage.model), speeds)
    best: Recommendation | None = None
    for (task, slug), measured in quality.items():
        if task != usage.task or slug == usage.model or slug not in rows:
            continue
        if measured.requests < MIN_SAMPLE or not measured.at_least(current):
            continue
        offer = quote(org_id, rows[slug], usage, margins)
        if offer is None:
            continue
        latency = _latency(rows[slug], speeds)
        cheaper = offer.cost_nanos * BPS <= usage.spend_nanos * (BPS - MIN_SAVING_BPS)
        faster = (latency is not None and current_latency is not None
                  and latency * BPS <= current_latency * FASTER_BPS
                  and offer.cost_nanos <= usage.spend_nanos)
        if not (cheaper or faster):
            continue
        rec = Recommendation(usage=usage, current_quality=current,
                             current_latency_ms=current_latency, alternative=slug,
                             alternative_name=rows[slug].name, quote=offer, quality=measured,
                             latency_ms=latency, cheaper=cheaper, faster=faster)
        if best is None or _rank(rec) < _rank(best):
            best = rec
    return best


def _rank(rec: Recommendation) -> tuple:
    """Cheaper ones first, most saved first; then the faster; ties by slug."""
    return (not rec.cheaper, -rec.savings_nanos, rec.latency_ms or 0, rec.alternative)


def recommend(org: Organization | int, *, now: dt.datetime | None = None,
              quality_of: Callable[[], dict[tuple[str, str], Quality]] | None = None
              ) -> OrgRecommendations:
    """The org's recommendations, best saving first (uncached; see `cached_recommendations`).

    `quality_of` gives every org's success rates (default: `task_quality` now); it is called
    only when the org has usage worth looking at."""
    org_id = org if isinstance(org, int) else org.pk
    now = now or timezone.now()
    usage = org_task_usage(org_id, now=now)
    spend_by_task: dict[str, int] = {}
    for u in usage:
        spend_by_task[u.task] = spend_by_task.get(u.task, 0) + u.spend_nanos
    top_tasks = tuple(sorted(spend_by_task, key=lambda t: (-spend_by_task[t], t)))
    result = OrgRecommendations(top_tasks=top_tasks,
                                top_model=usage[0].model if usage else None,
                                usage=tuple(usage))
    looked_at = [u for u in usage if u.spend_nanos >= MIN_SPEND_NANOS]
    if not looked_at:
        return result
    quality = quality_of() if quality_of is not None else task_quality(now=now)
    rows = {row.slug: row for row in list_model_rows(get_catalog_stamp())}
    margins = get_margin_table()
    tasks = {u.task for u in looked_at}
    measured = {slug for task, slug in quality if task in tasks}
    speeds = measured_latencies([row for slug, row in rows.items() if slug in measured])
    found = []
    sponsorable: set[str] = set()
    for u in looked_at:
        current = quality.get((u.task, u.model))
        if current is None or current.requests < MIN_SAMPLE:
            continue  # too few outcomes to say anything is "at least as good"
        sponsorable.update(slug for (task, slug), q in quality.items()
                           if task == u.task and slug != u.model
                           and q.requests >= MIN_SAMPLE and q.at_least(current))
        rec = _best_for(org_id, u, current, quality, rows, margins, speeds)
        if rec is not None:
            found.append(rec)
    found.sort(key=_rank)
    return OrgRecommendations(recommendations=tuple(found[:MAX_RECOMMENDATIONS]),
                              top_tasks=top_tasks, top_model=result.top_model,
                              usage=result.usage, sponsorable=frozenset(sponsorable))


def cached_recommendations(org: Organization) -> OrgRecommendations:
    """`recommend` for the dashboard, cached ORG_CACHE_S per org (keyed by its creation time
    too, so a recreated database never serves another org's figures under a reused id)."""
    key = f"observability:recommendations:{org.pk}:{int(org.created_at.timestamp())}"
    result = cache.get(key)
    if result is None:
        result = recommend(org, quality_of=cached_task_quality)
        cache.set(key, result, ORG_CACHE_S)
    return result
