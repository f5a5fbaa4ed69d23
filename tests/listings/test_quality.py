"""The telemetry behind quality: sample-weighted endpoint health, category medians, caching."""

from __future__ import annotations

from fractions import Fraction

from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import EndpointHealth
from marketplace.listings.quality import blended_price, category_telemetry
from tests.listings.conftest import DOLLAR

NONE = frozenset()


def test_endpoints_count_as_much_as_the_traffic_they_carried(market):
    model = market.model("acme/two-homes", providers=("prov-a", "prov-b"))
    a, b = (EndpointHealth.objects.filter(endpoint__model=model, endpoint__provider__slug=p)
            for p in ("prov-a", "prov-b"))
    a.update(uptime_bps=10_000, p50_latency_ms=200, error_rate_bps=0, sample_count=300)
    b.update(uptime_bps=9_600, p50_latency_ms=600, error_rate_bps=400, sample_count=100)

    t = category_telemetry(capabilities=NONE, tasks=NONE).models["acme/two-homes"]

    assert t.uptime_bps == 9_900  # (3 x 10,000 + 9,600) / 4
    assert t.p50_latency_ms == 300  # (3 x 200 + 600) / 4
    assert t.error_rate == Fraction(100, 10_000)  # no request records: the health's own
    assert t.blended_price_nanos_per_m == DOLLAR


def test_unsampled_health_is_no_measurement(market):
    market.model("acme/idle", samples=0)
    t = category_telemetry(capabilities=NONE, tasks=NONE).models["acme/idle"]
    assert not t.measured


def test_the_category_is_the_models_with_the_page_capabilities(market):
    market.model("a/tools-fast", supports_tools=True, latency_ms=100,
                 price_nanos_per_m=4 * DOLLAR)
    market.model("b/tools-slow", supports_tools=True, latency_ms=900, price_nanos_per_m=DOLLAR)
    market.model("c/tools-mid", supports_tools=True, latency_ms=500,
                 price_nanos_per_m=2 * DOLLAR)
    market.model("d/plain", latency_ms=50)
    market.model("e/tools-unmeasured", supports_tools=True, uptime_bps=None)

    tools = category_telemetry(capabilities=frozenset({"tools"}), tasks=NONE)
    assert set(tools.models) == {"a/tools-fast", "b/tools-slow", "c/tools-mid",
                                 "e/tools-unmeasured"}
    assert tools.category.median_latency_ms == 500  # unmeasured models do not count
    assert tools.category.median_price_nanos_per_m == 2 * DOLLAR
    every = category_telemetry(capabilities=NONE, tasks=NONE)
    assert every.category.median_latency_ms == 100  # 50, 100, 500, 900: the lower middle


def test_measured_once_a_minute_per_context(market):
    market.model("acme/cached")
    category_telemetry(capabilities=NONE, tasks=NONE)
    EndpointHealth.objects.update(p50_latency_ms=9_999)
    with CaptureQueriesContext(connection) as queries:
        again = category_telemetry(capabilities=NONE, tasks=NONE)
    assert again.models["acme/cached"].p50_latency_ms == 300
    assert len(queries.captured_queries) == 1  # the catalog stamp
    # Another context is measured afresh.
    fresh = category_telemetry(capabilities=NONE, tasks=frozenset({"coding"}))
    assert fresh.models["acme/cached"].p50_latency_ms == 9_999


def test_blended_price_weighs_three_input_tokens_to_one_output():
    assert blended_price(1_000, 5_000) == 2_000
    assert blended_price(1, 0) == 1  # 0.75 rounds half up
    assert blended_price(0, 2) == 1  # 0.5 rounds half up
