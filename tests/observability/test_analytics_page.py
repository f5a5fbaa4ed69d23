"""The analytics page: every member sees it (and its nav link), the figures are the rollups',
bad form input is a form error (400, never a 500), the page costs a fixed number of queries,
and the CSV export is for owners, admins and finance only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.test import Client

from core.money import api_usd, request_cost_usd
from marketplace.tenancy.models import Role
from observability.recording import RequestRow, store_request_records
from observability.rollups import rollup_requests
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.django_db

NOW = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


def row(org, n, *, hours_ago=1, **kwargs) -> RequestRow:
    values = {"request_id": f"gen-{org.pk}-{n}", "created_at": NOW - dt.timedelta(
        hours=hours_ago), "org_id": org.pk, "key_id": None,
        "model_requested": "openai/gpt-4o-mini", "model_served": "openai/gpt-4o-mini",
        "provider": "openai", "status": 200, "outcome": "success", "latency_ms": 300,
        "ttft_ms": 80, "cost_nanos": 2_500_000, "prompt_tokens": 100, "completion_tokens": 10}
    values.update(kwargs)
    return RequestRow(**values)


@pytest.fixture
def org_with_traffic():
    owner = member(Role.OWNER)
    key, _ = api_key(owner.org, name="backend")
    org = owner.org
    store_request_records([
        row(org, 1, key_id=key.pk, app="Support bot", task="chat"),
        row(org, 2, key_id=key.pk, model_served="anthropic/claude-sonnet-4",
            model_requested="anthropic/claude-sonnet-4", provider="anthropic",
            cost_nanos=40_000_000, latency_ms=900, is_fallback=True, is_byok=True,
            hours_ago=30),
        row(org, 3, status=429, outcome="refused", model_served="", provider="",
            error_type="rate_limit", cost_nanos=0, prompt_tokens=0, completion_tokens=0,
            latency_ms=1, ttft_ms=None, count=6),
        row(org, 4, status=502, outcome="failed", error_type="upstream_5xx", cost_nanos=0,
            prompt_tokens=0, completion_tokens=0, ttft_ms=None),
    ])
    other = member(Role.OWNER)
    store_request_records([row(other.org, 9, cost_nanos=999_000_000_000)])
    rollup_requests()
    return owner, key


def client_for(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def chart(content: str, name: str) -> dict:
    start = content.index(f'id="{name}-chart-data"')
    start = content.index(">", start) + 1
    return json.loads(content[start:content.index("</script>", start)])


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.DEVELOPER, Role.FINANCE,
                                  Role.VIEWER])
def test_every_member_sees_the_page_with_the_rollups_figures(org_with_traffic, role):
    owner, key = org_with_traffic
    reader = owner if role == Role.OWNER else member(role, org=owner.org)

    response = client_for(reader).get("/analytics/", {"range": "7d", "group_by": "model"})

    assert response.status_code == 200
    content = response.content.decode()
    assert 'href="/analytics/" aria-current="page">Analytics</a>' in content
    spend = chart(content, "spend")
    assert {s["label"] for s in spend["series"]} == {"openai/gpt-4o-mini",
                                                   "anthropic/claude-sonnet-4"}
    assert sum(sum(float(v) for v in s["values"]) for s in spend["series"]) == pytest.approx(
        0.0425)
    requests = chart(content, "requests")
    assert sum(sum(s["values"]) for s in requests["series"]) == 9  # 1 + 1 + 6 refusals + 1
    assert len(spend["labels"]) in (7, 8)  # the days the last 7 x 24 hours touch
    assert request_cost_usd(42_500_000) in content
    assert 'id="fallback-rate">11.1%' in content  # 1 of 9
    assert 'id="byok-share">11.1%' in content
    assert "rate_limit" in content and "upstream_5xx" in content
    assert ("analytics-export" in content) == (role in (Role.OWNER, Role.ADMIN, Role.FINANCE))


def test_grouping_by_key_app_and_task_names_the_groups(org_with_traffic):
    owner, key = org_with_traffic
    client = client_for(owner)
    labels = {}
    for group_by in ("key", "app", "task", "provider"):
        content = client.get("/analytics/", {"range": "24h", "group_by": group_by}
                             ).content.decode()
        labels[group_by] = {s["label"] for s in chart(content, "requests")["series"]}
    assert labels["key"] == {f"backend (#{key.pk})", "(no key)"}
    assert labels["app"] == {"Support bot", "(no app)"}
    assert labels["task"] == {"chat", "(unlabelled)"}
    assert labels["provider"] == {"openai", "(no provider: refused)"}


def test_hour_buckets_for_the_last_day(org_with_traffic):
    owner, _ = org_with_traffic
    content = client_for(owner).get("/analytics/", {"range": "24h"}).content.decode()
    requests = chart(content, "requests")
    assert len(requests["labels"]) in (24, 25)
    assert sum(sum(s["values"]) for s in requests["series"]) == 8  # the 30-hour-old one is out


@pytest.mark.parametrize("params", [
    {"range": "forever"},
    {"range": "custom", "since": "2026-03-01"},
    {"range": "custom", "since": "2026-03-05", "until": "2026-03-01"},
    {"range": "custom", "since": "2026-02-30", "until": "2026-03-01"},
    {"range": "90d", "bucket": "hour"},
    {"range": "7d", "bucket": "week"},
    {"range": "7d", "group_by": "user"},
])
def test_bad_input_is_a_form_error(org_with_traffic, params):
    owner, _ = org_with_traffic
    response = client_for(owner).get("/analytics/", params)
    assert response.status_code == 400
    assert b'class="errorlist"' in response.content


def test_the_page_costs_a_fixed_number_of_queries(org_with_traffic,
                                                  django_assert_max_num_queries):
    owner, _ = org_with_traffic
    client = client_for(owner)
    client.get("/analytics/")
    for group_by in ("model", "key"):
        with django_assert_max_num_queries(10):
            assert client.get("/analytics/", {"range": "90d", "group_by": group_by}
                              ).status_code == 200


def test_the_csv_export_is_for_owners_admins_and_finance(org_with_traffic):
    owner, _ = org_with_traffic
    for role, status in ((Role.ADMIN, 200), (Role.FINANCE, 200), (Role.DEVELOPER, 403),
                         (Role.VIEWER, 403)):
        response = client_for(member(role, org=owner.org)).get(
            "/analytics/export.csv", {"range": "7d", "group_by": "model"})
        assert response.status_code == status, role

    # Any range, hour buckets included (the page caps hours at 31 days, the export does not).
    response = client_for(owner).get("/analytics/export.csv", {
        "range": "custom", "since": (NOW - dt.timedelta(days=60)).date().isoformat(),
        "until": NOW.date().isoformat(), "bucket": "hour", "group_by": "model"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sum(int(r["requests"]) for r in table) == 9
    assert sum(int(r["cost_nanos"]) for r in table) == 42_500_000
    by_model = {}
    for r in table:
        by_model[r["group"]] = by_model.get(r["group"], 0) + int(r["cost_nanos"])
    assert by_model == {"openai/gpt-4o-mini": 2_500_000, "anthropic/claude-sonnet-4": 40_000_000}
    assert {r["cost_usd"] for r in table} >= {api_usd(40_000_000)}

    bad = client_for(owner).get("/analytics/export.csv", {"range": "custom"})
    assert bad.status_code == 400
