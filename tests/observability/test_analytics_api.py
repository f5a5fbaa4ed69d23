"""GET /api/v1/analytics/: buckets from the rollups with exact counts, tokens and cost (and
percentiles within the sketch's error), one org's only, for every member role, in a fixed
number of queries; bad input is a 400 naming the parameter; the CSV export is for owners,
admins and finance."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

import pytest

from core.money import api_usd
from marketplace.tenancy.models import Role
from observability.rollups import rollup_requests
from tests.observability.rollup_data import (
    direct_aggregation,
    exact_quantile,
    hour_of,
    random_rows,
)
from tests.tenancy.factories import api_key, key_client, member, session_client

pytestmark = pytest.mark.django_db

NOW = hour_of(dt.datetime.now(dt.UTC))


@pytest.fixture
def world():
    owner = member(Role.OWNER)
    other = member(Role.OWNER)
    keys = [api_key(owner.org, name=f"k{i}")[0] for i in range(2)]
    other_keys = [api_key(other.org, name="theirs")[0]]
    hours = [NOW - dt.timedelta(hours=h) for h in (1, 2, 3, 26, 50, 73)]
    rng = random.Random(5)
    rows = random_rows(rng, [(owner.org, keys)], hours, 250)
    random_rows(rng, [(other.org, other_keys)], hours, 60, prefix="other")
    rollup_requests()
    return owner, other, rows


def expected_buckets(rows, org_id, period, dimension):
    found = {}
    for (org, p, start, d, group), e in direct_aggregation(rows).items():
        if org == org_id and p == period and d == dimension:
            found[(start, group)] = e
    return found


def query(client, **params):
    return client.get("/api/v1/analytics/", params)


def test_buckets_equal_the_records(world, django_assert_num_queries):
    owner, _, rows = world
    client = session_client(owner)
    client.get("/api/v1/analytics/")  # the session's first save out of the way
    since = (NOW - dt.timedelta(days=4)).isoformat()
    until = (NOW + dt.timedelta(hours=1)).isoformat()
    for bucket in ("hour", "day"):
        for group_by in ("model", "provider", "key", "app", "task", ""):
            # The session, the user, the membership with its org, the rollup rows.
            with django_assert_num_queries(4):
                response = query(client, since=since, until=until, bucket=bucket,
                                 **({"group_by": group_by} if group_by else {}))
            assert response.status_code == 200, response.content
            assert_buckets(response.json(), rows, owner.org_id, bucket, group_by or "all")


def assert_buckets(body, rows, org_id, bucket, dimension):
    assert list(body) == ["buckets"]
    expected = expected_buckets(rows, org_id, bucket, dimension)
    got = {(dt.datetime.fromisoformat(b["start"]), b["group"]): b for b in body["buckets"]}
    assert set(got) == set(expected)
    for key, e in expected.items():
        b = got[key]
        assert list(b) == ["start", "group", "requests", "prompt_tokens", "completion_tokens",
                           "cost_usd", "cost_nanos", "errors", "p50_ms", "p95_ms", "p99_ms",
                           "ttft_p50_ms"]
        assert (b["requests"], b["prompt_tokens"], b["completion_tokens"], b["cost_nanos"],
                b["errors"]) == (e.requests, e.prompt_tokens, e.completion_tokens,
                                 e.cost_nanos, e.errors)
        assert b["cost_usd"] == api_usd(e.cost_nanos)
        # Within the sketch's 1%, plus the 0.05 ms of rounding to 0.1 ms on the wire.
        for name, q in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99), ("ttft_p50_ms", 0.5)):
            exact = exact_quantile(e.ttfts if name == "ttft_p50_ms" else e.latencies, q)
            if exact is None:
                assert b[name] is None
            else:
                assert abs(b[name] - exact) <= 0.01 * exact + 0.05 + 1e-9, (key, name)
    starts = [b["start"] for b in body["buckets"]]
    assert starts == sorted(starts)


def test_one_exact_bucket():
    owner = member(Role.OWNER)
    from observability.recording import RequestRow, store_request_records

    when = dt.datetime(2026, 3, 4, 10, 30, tzinfo=dt.UTC)
    store_request_records([
        RequestRow(request_id=f"gen-{i}", created_at=when, org_id=owner.org_id, key_id=None,
                   model_requested="openai/gpt-4o-mini", model_served="openai/gpt-4o-mini",
                   provider="openai", status=200, outcome="success", prompt_tokens=100,
                   completion_tokens=20, cost_nanos=1_234_567, latency_ms=100 * (i + 1),
                   ttft_ms=50)
        for i in range(3)] + [
        RequestRow(request_id="gen-429", created_at=when, org_id=owner.org_id, key_id=None,
                   model_requested="openai/gpt-4o-mini", status=429, outcome="refused",
                   error_type="rate_limit", count=5)])
    rollup_requests()

    response = query(session_client(owner), since="2026-03-04", until="2026-03-04",
                     bucket="day", group_by="model")

    assert response.json() == {"buckets": [{
        "start": "2026-03-04T00:00:00Z", "group": "openai/gpt-4o-mini", "requests": 8,
        "prompt_tokens": 300, "completion_tokens": 60, "cost_usd": "0.003703701",
        "cost_nanos": 3_703_701, "errors": 5,
        # 200 ms and 50 ms within 1%: of 3 values, rank floor(q * 2) is the middle one for
        # q = 0.5, 0.95 and 0.99; the refusals have no latency.
        "p50_ms": 198.4, "p95_ms": 198.4, "p99_ms": 198.4, "ttft_p50_ms": 49.9}]}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.DEVELOPER, Role.FINANCE, Role.VIEWER])
def test_every_member_reads_and_only_their_org(world, role):
    owner, other, rows = world
    reader = member(role, org=owner.org)
    response = query(session_client(reader), bucket="day",
                     since=(NOW - dt.timedelta(days=5)).date().isoformat())
    assert response.status_code == 200
    total = sum(b["requests"] for b in response.json()["buckets"])
    assert total == sum(r.count for r in rows)
    # Asking for another org by header is a 404, like a missing org.
    response = session_client(reader).get("/api/v1/analytics/",
                                          HTTP_X_SWITCHYARD_ORG=str(other.org_id))
    assert response.status_code == 404


def test_keys_a_management_key_reads_its_org_and_an_inference_key_is_refused(world):
    owner, other, rows = world
    _, management = api_key(owner.org, scope="management", name="mgmt")
    _, inference = api_key(owner.org, name="inf")
    response = query(key_client(management), bucket="day",
                     since=(NOW - dt.timedelta(days=5)).isoformat())
    assert response.status_code == 200
    assert sum(b["requests"] for b in response.json()["buckets"]) == sum(r.count for r in rows)
    assert query(key_client(inference)).status_code == 403
    assert query(key_client(management), **{}).status_code == 200


@pytest.mark.parametrize(("params", "param"), [
    ({"since": "yesterday"}, "since"),
    ({"until": "2026-02-30"}, "until"),
    ({"since": "2026-03-05", "until": "2026-03-01"}, "since"),
    ({"bucket": "week"}, "bucket"),
    ({"group_by": "user"}, "group_by"),
    ({"bucket": "hour", "since": "2026-01-01", "until": "2026-03-01"}, "since"),
    ({"bucket": "day", "since": "2020-01-01", "until": "2026-03-01"}, "since"),
])
def test_bad_input_is_a_400_naming_the_parameter(params, param):
    owner = member(Role.OWNER)
    response = query(session_client(owner), **params)
    assert response.status_code == 400
    body = response.json()
    assert param in body and body[param][0], body


def test_the_range_cap_is_stated():
    owner = member(Role.OWNER)
    body = query(session_client(owner), bucket="hour", since="2026-01-01",
                 until="2026-03-01").json()
    assert "at most 31 days" in body["since"][0]


def test_the_csv_export_is_for_owners_admins_and_finance(world):
    owner, _, rows = world
    since = (NOW - dt.timedelta(days=5)).isoformat()
    for role, status in ((Role.ADMIN, 200), (Role.FINANCE, 200), (Role.DEVELOPER, 403),
                         (Role.VIEWER, 403)):
        client = session_client(member(role, org=owner.org))
        response = client.get("/api/v1/analytics/export.csv",
                              {"since": since, "bucket": "hour", "group_by": "task"})
        assert response.status_code == status, role
    response = session_client(owner).get("/api/v1/analytics/export.csv",
                                         {"since": since, "bucket": "hour", "group_by": "task"})
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    expected = expected_buckets(rows, owner.org_id, "hour", "task")
    assert len(table) == len(expected)
    assert sum(int(r["requests"]) for r in table) == sum(e.requests for e in expected.values())
    assert sum(int(r["cost_nanos"]) for r in table) == sum(e.cost_nanos
                                                            for e in expected.values())
    assert {r["dimension"] for r in table} == {"task"}


@pytest.mark.parametrize("bucket", ["hour", "day"])
def test_the_pages_latency_by_model_and_provider_covers_the_range(world, bucket):
    from observability.analytics import get_analytics, parse_query

    owner, _, rows = world
    since = NOW - dt.timedelta(days=3, minutes=30)  # not on an hour: its hour counts whole
    until = NOW - dt.timedelta(hours=2)
    data = get_analytics(owner.org, parse_query(
        {"since": since.isoformat(), "until": until.isoformat(), "bucket": bucket}))

    step = dt.timedelta(hours=1) if bucket == "hour" else dt.timedelta(days=1)
    floor = hour_of if bucket == "hour" else (
        lambda m: m.replace(hour=0, minute=0, second=0, microsecond=0))
    inside = [r for r in rows if since - step < floor(r.created_at) < until]
    assert data.total.requests == sum(r.count for r in inside)
    for summaries, attribute in ((data.by_model, "model"), (data.by_provider, "provider")):
        for summary in summaries:
            mine = [r for r in inside if r.outcome == "success" and (
                (r.model_served or r.model_requested) if attribute == "model"
                else r.provider) == summary.group]
            latencies = [r.latency_ms for r in mine for _ in range(r.count)]
            for value, q in ((summary.p50_ms, 0.5), (summary.p95_ms, 0.95),
                             (summary.p99_ms, 0.99)):
                exact = exact_quantile(latencies, q)
                assert (value is None) if exact is None else (
                    abs(value - exact) <= 0.01 * exact + 0.05 + 1e-9), (summary.group, q)
