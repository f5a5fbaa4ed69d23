"""The endpoint-health rollup: exact percentiles and uptime from usage records, per window."""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from billing.models import UsageRecord
from catalog.models import Endpoint, EndpointHealth
from catalog.selectors import build_routing_snapshot, get_catalog_version, get_endpoint_health
from marketplace.tenancy.models import Organization
from routing.tasks import rollup_endpoint_health


def _usage(org, n, *, endpoint, minutes_ago, latency_ms, ttft_ms=None, tokens=0,
           finish="stop", attempts=()):
    return UsageRecord.objects.create(
        request_id=f"req-{n}", org=org, requested_model=endpoint.model.slug,
        created_at=timezone.now() - dt.timedelta(minutes=minutes_ago), endpoint_id=endpoint.id,
        latency_ms=latency_ms, ttft_ms=ttft_ms, completion_tokens=tokens, finish_reason=finish,
        attempts=list(attempts),
    )


def test_rollup_computes_each_window_from_usage(imported_catalog):
    org = Organization.objects.create(name="Acme", slug="acme")
    a = Endpoint.objects.get(model__slug="openai/gpt-4o-mini", provider__slug="sandbox-openai")
    b = Endpoint.objects.get(model__slug="openai/gpt-4o-mini", provider__slug="sandbox-openai-b")
    # Four answered requests on A in the last 5 minutes, latencies 100..400 ms.
    for i, latency in enumerate((100, 200, 300, 400)):
        _usage(org, i, endpoint=a, minutes_ago=1, latency_ms=latency, ttft_ms=50,
               tokens=(latency - 50) // 10)
    # One fell back from B (502) to A 30 minutes ago; one B 429 does not count against B.
    _usage(org, 10, endpoint=a, minutes_ago=30, latency_ms=1_000, attempts=[
        {"endpoint_id": b.id, "provider": "sandbox-openai-b", "status": 502, "latency_ms": 80},
        {"endpoint_id": b.id, "provider": "sandbox-openai-b", "status": 429, "latency_ms": 5},
    ])
    # Two hours ago B answered once; two days ago is outside every window.
    _usage(org, 11, endpoint=b, minutes_ago=120, latency_ms=700)
    _usage(org, 12, endpoint=b, minutes_ago=60 * 48, latency_ms=9_999)
    version = get_catalog_version()

    written = rollup_endpoint_health.apply().get()  # runs the task here, broker or not

    rows = {(h.endpoint_id, h.window): h for h in EndpointHealth.objects.all()}
    assert written == len(rows) == 6  # A: 5m, 30m, 1h, 1d; B: 1h (its 502), 1d
    five = rows[(a.id, "5m")]
    assert (five.sample_count, five.p50_latency_ms, five.p99_latency_ms) == (4, 200, 400)
    assert (five.p50_ttft_ms, five.uptime_bps, five.error_rate_bps) == (50, 10_000, 0)
    assert five.p50_tokens_per_s == 100  # 15 tokens in 150 ms .. 35 in 350 ms: 100 tok/s
    # The fallback 30 minutes ago (written before this run's clock) is just outside 30m.
    half = rows[(a.id, "30m")]
    assert (half.sample_count, half.p99_latency_ms, half.uptime_bps) == (4, 400, 10_000)
    hour_a = rows[(a.id, "1h")]
    assert (hour_a.sample_count, hour_a.p50_latency_ms, hour_a.p99_latency_ms) == (5, 300, 1_000)
    hour_b = rows[(b.id, "1h")]
    assert (hour_b.sample_count, hour_b.uptime_bps, hour_b.error_rate_bps) == (1, 0, 10_000)
    assert hour_b.p50_latency_ms is None
    day_b = rows[(b.id, "1d")]
    assert (day_b.sample_count, day_b.uptime_bps, day_b.p50_latency_ms) == (2, 5_000, 700)
    assert (b.id, "5m") not in rows
    # Health is not a catalog change: the gateway's snapshot is not rebuilt for it.
    assert get_catalog_version() == version
    assert get_endpoint_health([a.id])[a.id]["1h"].p99_latency_ms == 1_000
    assert build_routing_snapshot().version == str(version)


def test_rollup_is_idempotent_and_runs_on_no_usage(imported_catalog):
    assert rollup_endpoint_health() == 0
    assert EndpointHealth.objects.count() == 0
    org = Organization.objects.create(name="Acme", slug="acme")
    a = Endpoint.objects.get(model__slug="openai/gpt-4o", provider__slug="sandbox-openai")
    _usage(org, 1, endpoint=a, minutes_ago=2, latency_ms=250)

    assert rollup_endpoint_health() == 4
    first = list(EndpointHealth.objects.values_list("endpoint_id", "window", "p50_latency_ms"))
    assert rollup_endpoint_health() == 4
    assert list(EndpointHealth.objects.values_list("endpoint_id", "window",
                                                   "p50_latency_ms")) == first


def test_rollup_is_scheduled_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["routing.rollup_endpoint_health"]
    assert entry == {"task": "routing.tasks.rollup_endpoint_health", "schedule": 60.0}
    assert rollup_endpoint_health.name == entry["task"]


def test_throughput_percentiles_read_the_slow_tail_as_openrouter_does(imported_catalog):
    org = Organization.objects.create(name="Acme", slug="acme")
    a = Endpoint.objects.get(model__slug="openai/gpt-4o", provider__slug="sandbox-openai")
    # 100 answers of 1..100 tok/s: 1 s of generation after a 100 ms first token.
    for n in range(1, 101):
        _usage(org, n, endpoint=a, minutes_ago=3, latency_ms=1_100, ttft_ms=100, tokens=n)

    rollup_endpoint_health()

    view = get_endpoint_health([a.id])[a.id]["30m"]
    # pN is the speed N % of answers reached: p90 = 10 tok/s (91 of 100 answers reached it).
    assert (view.p50_tokens_per_s, view.p75_tokens_per_s, view.p90_tokens_per_s,
            view.p99_tokens_per_s) == (50, 25, 10, 1)
