"""The staff provider-health page (/routing/health/): figures, access, queries, breakers."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re

import pytest
import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import UsageRecord
from catalog.models import Endpoint
from marketplace.tenancy.models import Organization
from routing.breakers import Breakers
from routing.gateway.pubsub import OPEN_BREAKERS_KEY, BreakerBroadcast
from routing.tasks import rollup_endpoint_health
from tests.staff import sign_in_with_mfa, staff_user
from tests.tenancy.factories import UserFactory

URL = "/routing/health/"


def _nearest_rank(values: list[int], pct: int) -> int:
    values = sorted(values)
    return values[max(1, -(-pct * len(values) // 100)) - 1]


def _usage(org, n, endpoint, *, minutes_ago, latency_ms, attempts=()):
    return UsageRecord.objects.create(
        request_id=f"req-{n}", org=org, requested_model=endpoint.model.slug,
        created_at=timezone.now() - dt.timedelta(minutes=minutes_ago), endpoint_id=endpoint.id,
        latency_ms=latency_ms, ttft_ms=latency_ms // 4, completion_tokens=latency_ms // 10,
        finish_reason="stop", attempts=list(attempts))


def _cells(html: str, endpoint_id: int, css: str) -> list[str]:
    """The text of one row's cells of a class, in window order (5m, 1h, 1d)."""
    row = re.search(rf'<tr data-endpoint="{endpoint_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, f"no row for endpoint {endpoint_id}"
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip()
            for c in re.findall(rf'<td class="num {css}"[^>]*>(.*?)</td>', row.group(1), re.S)]


@pytest.fixture
def operator(client):
    return sign_in_with_mfa(client, staff_user())


def test_figures_equal_a_direct_computation_over_the_usage_rows(imported_catalog, operator):
    org = Organization.objects.create(name="Acme", slug="acme")
    rng = random.Random(13)
    endpoints = list(Endpoint.objects.filter(provider__slug__startswith="sandbox")
                     .order_by("id")[:3])
    raw: dict[int, list[tuple[int, int, bool]]] = {e.id: [] for e in endpoints}
    n = 0
    for endpoint in endpoints:
        other = endpoints[(endpoints.index(endpoint) + 1) % len(endpoints)]
        for _ in range(rng.randint(20, 40)):
            n += 1
            minutes = rng.choice((1, 3, 20, 50, 200, 1000))
            latency = rng.randint(80, 3_000)
            failed_first = rng.random() < 0.2  # `other` answered 502 first, then this one
            attempts = [{"endpoint_id": other.id, "status": 502}] if failed_first else []
            _usage(org, n, endpoint, minutes_ago=minutes, latency_ms=latency, attempts=attempts)
            raw[endpoint.id].append((minutes, latency, True))
            if failed_first:
                raw[other.id].append((minutes, 0, False))
    rollup_endpoint_health()

    html = operator.get(URL).content.decode()

    for endpoint in endpoints:
        expected_latency, expected_uptime = [], []
        for span in (5, 60, 1440):
            inside = [s for s in raw[endpoint.id] if s[0] < span]
            ok = sorted(s[1] for s in inside if s[2])
            expected_latency.append(f"{_nearest_rank(ok, 50)} / {_nearest_rank(ok, 99)}"
                                    if ok else "— / —" if inside else None)
            if inside:
                bps = (len(ok) * 10_000 + len(inside) // 2) // len(inside)
                expected_uptime.append(f"{bps // 100}.{bps % 100:02d} % {len(inside)} att.")
            else:
                expected_uptime.append(None)
        measured = [e for e in expected_latency if e is not None]
        assert _cells(html, endpoint.id, "latency") == measured
        assert _cells(html, endpoint.id, "uptime") == [u for u in expected_uptime if u]


def test_worst_first_and_provider_filter(imported_catalog, operator):
    org = Organization.objects.create(name="Acme", slug="acme")
    good, bad = Endpoint.objects.filter(provider__slug__startswith="sandbox").order_by("id")[:2]
    for i in range(4):
        _usage(org, i, good, minutes_ago=2, latency_ms=100)
        # Each answer on `bad` came after a 500 from it: half its attempts failed.
        _usage(org, 10 + i, bad, minutes_ago=2, latency_ms=100,
               attempts=[{"endpoint_id": bad.id, "status": 500}])
    rollup_endpoint_health()

    html = operator.get(URL).content.decode()
    order = [int(x) for x in re.findall(r'<tr data-endpoint="(\d+)"', html)]
    assert order.index(bad.id) < order.index(good.id) < len(order) - 1  # unmeasured last
    assert order[0] == bad.id

    by_uptime = operator.get(URL, {"sort": "uptime", "window": "5m"}).content.decode()
    assert re.findall(r'<tr data-endpoint="(\d+)"', by_uptime)[:2] == [str(bad.id), str(good.id)]

    only = operator.get(URL, {"provider": good.provider.slug}).content.decode()
    providers = set(re.findall(r'data-provider="([^"]+)"', only))
    assert providers == {good.provider.slug}
    assert str(good.id) in re.findall(r'<tr data-endpoint="(\d+)"', only)


def test_unknown_filter_is_a_form_error(imported_catalog, operator):
    response = operator.get(URL, {"provider": "no-such-provider", "sort": "bogus"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="errorlist"' in html and "provider-health" not in html.split("</form>")[1]


def test_refused_to_anonymous_non_staff_and_staff_without_a_second_factor(imported_catalog,
                                                                         client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    client.force_login(UserFactory())
    assert client.get(URL).status_code == 403

    client.force_login(staff_user(totp=False))
    response = client.get(URL)
    assert response.status_code == 302 and "/2fa/totp/activate" in response["Location"]

    client.force_login(staff_user())  # enrolled, but this session never passed the code
    response = client.get(URL)
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    assert "<table" not in response.content.decode()


def test_query_count_does_not_grow_with_endpoints(imported_catalog, operator,
                                                  django_assert_max_num_queries):
    org = Organization.objects.create(name="Acme", slug="acme")
    endpoints = list(Endpoint.objects.order_by("id"))
    assert len(endpoints) > 20
    for i, endpoint in enumerate(endpoints):
        _usage(org, i, endpoint, minutes_ago=2, latency_ms=100 + i)
    rollup_endpoint_health()
    one_provider = endpoints[0].provider.slug

    with CaptureQueriesContext(connection) as few:
        assert operator.get(URL, {"provider": one_provider}).status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = operator.get(URL).content.decode()
    assert len(re.findall(r'<tr data-endpoint=', html)) == len(endpoints)


@pytest.mark.redis
def test_open_breakers_are_those_the_gateways_broadcast(imported_catalog, operator):
    endpoint = Endpoint.objects.order_by("id").first()
    sync = redis.Redis.from_url(settings.REDIS_URL)
    sync.delete(OPEN_BREAKERS_KEY)

    breakers = Breakers()

    async def verdict(state: str) -> bytes | None:
        # A gateway process: its breakers broadcast through Redis (a client per event loop).
        client = aioredis.Redis.from_url(settings.REDIS_URL)
        breakers.publisher = BreakerBroadcast(client, breakers).publish
        if state == "open":
            for _ in range(breakers.config.consecutive_failures):
                breakers.record_failure(endpoint.id)
        else:
            breakers.record_success(endpoint.id)
        value = await _wait_for(client, endpoint.id, present=state == "open")
        await client.aclose()
        return value

    assert asyncio.run(verdict("open")) is not None
    page = operator.get(URL).content.decode()
    row = re.search(rf'<tr data-endpoint="{endpoint.id}"[^>]*>(.*?)</tr>', page, re.S).group(1)
    assert 'class="badge off"' in row and ">open<" in row
    assert "1 open breaker." in page

    asyncio.run(verdict("closed"))
    html = operator.get(URL).content.decode()
    assert "No open breakers." in html
    sync.close()


async def _wait_for(client, endpoint_id: int, *, present: bool) -> bytes | None:
    for _ in range(100):
        value = await client.hget(OPEN_BREAKERS_KEY, str(endpoint_id))
        if (value is not None) == present:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"breaker of {endpoint_id} never {'opened' if present else 'closed'}")


def test_without_redis_breaker_states_are_unknown(imported_catalog, operator, settings):
    settings.REDIS_URL = ""
    html = operator.get(URL).content.decode()
    assert "Breaker states unknown" in html
