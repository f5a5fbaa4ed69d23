"""Synthetic usage history for the demo org (`seed_demo --usage N`), for the dashboard's charts
and the page-speed benchmark (scripts/page_speed.py). Each usage record gets its matching
request record (observability), plus about one refused request in twenty (limits, credit,
policy, no endpoint) that never reached a provider, with apps, tasks, fallbacks and BYOK; the
analytics rollup then runs once so the analytics page is filled.

Written directly, like the rest of seed_demo (ARCHITECTURE.md): the records are history, not
requests, so they are marked posted (the ledger poster leaves them alone) and move no balance.
Deterministic for a seed; spread over the last `days` days, newest now.

Costs are the served endpoint's catalog price plus the demo margin, and each model fails at a
rate of its own (`FAILURE_RATES`), so the overview's organic recommendations (issue 14) have
something true to say: the dearer models fail a little more often on the same tasks than
the cheaper sandbox ones. `add_recent_demo_traffic` keeps the last hours of a few endpoints
filled, so their measured health (the sponsored listings' quality gates) never goes stale.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from django.db.models import Count
from django.utils import timezone

from billing.models import UsageRecord
from catalog.selectors import current_prices, list_endpoints
from core.money import apply_bps, usage_cost_nanos
from marketplace.tenancy.models import ApiKey, KeyScope, Organization
from observability.recording import RequestRow, store_request_records
from observability.rollups import rollup_requests

FALLBACK_MODELS = [("openai/gpt-4o-mini", "sandbox-openai"),
                   ("anthropic/claude-sonnet-4", "sandbox-anthropic")]
# Nanos per million tokens (input, output): a spread of cheap and dear models.
PRICES = [(150_000_000, 600_000_000), (3_000_000_000, 15_000_000_000),
          (500_000_000, 1_500_000_000), (2_500_000_000, 10_000_000_000),
          (100_000_000, 400_000_000), (1_000_000_000, 4_000_000_000)]
MARGIN_BPS = 550
BATCH = 2_000
APPS = ["Support bot", "Docs search", "Nightly ETL", ""]
TASKS = ["chat", "coding", "extraction", "summarization", "document_qa", "classification", ""]
# The share of each model's demo requests that fail upstream (others: DEFAULT_FAILURE_RATE).
FAILURE_RATES = {"anthropic/claude-haiku-4.5": 0.03, "anthropic/claude-sonnet-4.5": 0.025,
                 "google/gemini-2.5-flash": 0.01, "meta-llama/llama-3.3-70b-instruct": 0.01}
DEFAULT_FAILURE_RATE = 0.02
REFUSALS = [(429, "rate_limit"), (402, "credit"), (403, "policy"), (503, "no_endpoint")]


Served = tuple[str, str, int | None, tuple[int, int]]  # model, provider, endpoint, prices


def _served(max_models: int) -> list[Served]:
    """The sandbox endpoints the demo calls, with their list prices (input, output) in force
    (the fallback models, with PRICES, when the catalog was not imported)."""
    endpoints = list(list_endpoints().filter(provider__slug__startswith="sandbox")[:max_models])
    if endpoints:
        prices = current_prices(endpoint_ids=[e.pk for e in endpoints])
        return [(e.model.slug, e.provider.slug, e.pk,
                 (prices[e.pk].input_nanos_per_m, prices[e.pk].output_nanos_per_m)
                 if e.pk in prices else PRICES[i % len(PRICES)])
                for i, e in enumerate(endpoints)]
    return [(model, provider, None, PRICES[i % len(PRICES)])
            for i, (model, provider) in enumerate(FALLBACK_MODELS)]


def add_demo_usage(org: Organization, count: int, *, days: int = 30, seed: int = 12,
                   now: dt.datetime | None = None, max_models: int = 8) -> int:
    """Add `count` usage records to `org` over its inference keys; return how many."""
    rng = random.Random(seed)
    now = now or timezone.now()
    keys = list(ApiKey.objects.filter(org=org, scope=KeyScope.INFERENCE).values_list("pk",
                                                                                      flat=True))
    served = _served(max_models)
    span_s = days * 86_400 - 1
    picks = (served[min(int(rng.expovariate(0.6)), len(served) - 1)]  # a few models dominate
             for _ in range(count))
    return _add(org, keys, rng, [(pick, now - dt.timedelta(seconds=rng.randint(0, span_s)))
                                 for pick in picks], failures=True)


def _add(org: Organization, keys: list[int], rng: random.Random,
         calls: list[tuple[Served, dt.datetime]], *, failures: bool) -> int:
    """Usage records (and their request records) for these calls; the analytics rollup."""
    rows = []
    requests: list[RequestRow] = []
    for (model, provider, endpoint_id, (input_price, output_price)), created in calls:
        prompt, completion = rng.randint(20, 4_000), rng.randint(5, 1_200)
        upstream = usage_cost_nanos(prompt_tokens=prompt, completion_tokens=completion,
                                    input_nanos_per_m=input_price,
                                    output_nanos_per_m=output_price)
        margin = apply_bps(upstream, MARGIN_BPS)
        failed = failures and rng.random() < FAILURE_RATES.get(model, DEFAULT_FAILURE_RATE)
        rows.append(UsageRecord(
            request_id=f"demo-{uuid.UUID(int=rng.getrandbits(128)).hex}",
            org=org, api_key_id=rng.choice(keys) if keys else None, created_at=created,
            requested_model=model, served_model="" if failed else model,
            endpoint_id=None if failed else endpoint_id, provider_slug=provider,
            prompt_tokens=prompt, completion_tokens=0 if failed else completion,
            upstream_cost_nanos=0 if failed else upstream,
            margin_nanos=0 if failed else margin,
            charge_nanos=0 if failed else upstream + margin,
            latency_ms=rng.randint(150, 4_000), finish_reason="error" if failed else "stop",
            posted_at=created,
        ))
        requests.append(_request_row(rng, rows[-1], failed))
        if failures and rng.random() < 0.05:
            requests.append(_refusal(rng, org, rows[-1]))
    UsageRecord.objects.bulk_create(rows, batch_size=BATCH)
    for start in range(0, len(requests), BATCH):
        store_request_records(requests[start:start + BATCH])
    rollup_requests()
    return len(rows)


def _request_row(rng: random.Random, usage: UsageRecord, failed: bool) -> RequestRow:
    """The request record of a demo usage record: the same request, as the gateway logs it."""
    latency = usage.latency_ms
    streamed = rng.random() < 0.6
    return RequestRow(
        request_id=usage.request_id, created_at=usage.created_at, org_id=usage.org_id,
        key_id=usage.api_key_id, model_requested=usage.requested_model,
        model_served=usage.served_model, provider=usage.provider_slug,
        endpoint_id=usage.endpoint_id, status=502 if failed else 200,
        outcome="failed" if failed else "success",
        error_type="upstream_5xx" if failed else "",
        error_message="The provider failed to answer." if failed else "",
        finish_reason="" if failed else "stop",
        prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
        cost_nanos=usage.charge_nanos, latency_ms=latency,
        ttft_ms=int(latency * rng.uniform(0.1, 0.4)) if streamed and not failed else None,
        streamed=streamed, is_fallback=not failed and rng.random() < 0.06,
        is_byok=rng.random() < 0.1, app=rng.choice(APPS), task=rng.choice(TASKS))


def _refusal(rng: random.Random, org: Organization, usage: UsageRecord) -> RequestRow:
    status, error_type = rng.choice(REFUSALS)
    return RequestRow(
        request_id=f"{usage.request_id}-r", created_at=usage.created_at, org_id=org.pk,
        key_id=usage.api_key_id, model_requested=usage.requested_model, status=status,
        outcome="refused", error_type=error_type, latency_ms=rng.randint(1, 5),
        app=rng.choice(APPS), count=rng.randint(1, 5) if error_type == "rate_limit" else 1)


RECENT = dt.timedelta(hours=12)


def add_recent_demo_traffic(org: Organization, model_slugs: list[str], *, per_endpoint: int = 24,
                            now: dt.datetime | None = None) -> int:
    """Answered requests of the last hours on every sandbox endpoint of these models, unless
    the endpoint already has `per_endpoint` of them in the last `RECENT` (idempotent within
    that window): the endpoint health task measures the last day, and the sponsored
    listings' quality gates read that health. Returns how many records were added."""
    now = now or timezone.now()
    keys = list(ApiKey.objects.filter(org=org, scope=KeyScope.INFERENCE).values_list("pk",
                                                                                      flat=True))
    endpoints = list(list_endpoints().filter(provider__slug__startswith="sandbox",
                                             model__slug__in=model_slugs))
    prices = current_prices(endpoint_ids=[e.pk for e in endpoints])
    recent = set(UsageRecord.objects.filter(org=org, created_at__gte=now - RECENT,
                                            endpoint_id__in=[e.pk for e in endpoints])
                 .values("endpoint_id").annotate(n=Count("id"))
                 .filter(n__gte=per_endpoint).values_list("endpoint_id", flat=True))
    rng = random.Random(f"{org.pk}:{now:%Y-%m-%d %H}")
    calls: list[tuple[Served, dt.datetime]] = []
    for e in endpoints:
        if e.pk in recent or e.pk not in prices:
            continue
        served = (e.model.slug, e.provider.slug, e.pk,
                  (prices[e.pk].input_nanos_per_m, prices[e.pk].output_nanos_per_m))
        span_s = int(RECENT.total_seconds()) - 3_600
        calls += [(served, now - dt.timedelta(seconds=rng.randint(60, span_s)))
                  for _ in range(per_endpoint)]
    return _add(org, keys, rng, calls, failures=False) if calls else 0


def has_usage(org_id: int) -> bool:
    return UsageRecord.objects.filter(org_id=org_id).exists()
