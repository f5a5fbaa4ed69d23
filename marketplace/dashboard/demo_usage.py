"""Synthetic usage history for the demo org (`seed_demo --usage N`), for the dashboard's charts
and the page-speed benchmark (scripts/page_speed.py). Each usage record gets its matching
request record (observability), plus about one refused request in twenty (limits, credit,
policy, no endpoint) that never reached a provider, with apps, tasks, fallbacks and BYOK; the
analytics rollup then runs once so the analytics page is filled.

Written directly, like the rest of seed_demo (ARCHITECTURE.md): the records are history, not
requests, so they are marked posted (the ledger poster leaves them alone) and move no balance.
Deterministic for a seed; spread over the last `days` days, newest now.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from django.utils import timezone

from billing.models import UsageRecord
from catalog.selectors import list_endpoints
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
TASKS = ["chat", "coding", "extraction", "summarization", "question_answering",
         "classification", ""]
REFUSALS = [(429, "rate_limit"), (402, "credit"), (403, "policy"), (503, "no_endpoint")]


def _served(max_models: int) -> list[tuple[str, str, int | None]]:
    endpoints = list(list_endpoints().filter(provider__slug__startswith="sandbox")[:max_models])
    if endpoints:
        return [(e.model.slug, e.provider.slug, e.pk) for e in endpoints]
    return [(model, provider, None) for model, provider in FALLBACK_MODELS]


def add_demo_usage(org: Organization, count: int, *, days: int = 30, seed: int = 12,
                   now: dt.datetime | None = None, max_models: int = 8) -> int:
    """Add `count` usage records to `org` over its inference keys; return how many."""
    rng = random.Random(seed)
    now = now or timezone.now()
    keys = list(ApiKey.objects.filter(org=org, scope=KeyScope.INFERENCE).values_list("pk",
                                                                                      flat=True))
    served = _served(max_models)
    span_s = days * 86_400 - 1
    rows = []
    requests: list[RequestRow] = []
    for _ in range(count):
        index = min(int(rng.expovariate(0.6)), len(served) - 1)  # a few models dominate
        model, provider, endpoint_id = served[index]
        input_price, output_price = PRICES[index % len(PRICES)]
        prompt, completion = rng.randint(20, 4_000), rng.randint(5, 1_200)
        upstream = usage_cost_nanos(prompt_tokens=prompt, completion_tokens=completion,
                                    input_nanos_per_m=input_price,
                                    output_nanos_per_m=output_price)
        margin = apply_bps(upstream, MARGIN_BPS)
        failed = rng.random() < 0.02
        created = now - dt.timedelta(seconds=rng.randint(0, span_s))
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
        if rng.random() < 0.05:
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


def has_usage(org_id: int) -> bool:
    return UsageRecord.objects.filter(org_id=org_id).exists()
