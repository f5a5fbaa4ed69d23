"""Browser: every dashboard page fits a 390 px phone and a 1280 px laptop without the page
scrolling sideways (wide tables scroll inside their own box), with usage on the pages."""

import datetime as dt

import pytest
from django.utils import timezone

from marketplace.tenancy.models import Role
from observability.alerts.evaluate import evaluate_alerts
from observability.recording import RequestRow, store_request_records
from observability.rollups import rollup_requests
from tests.dashboard.usage_rows import usage
from tests.e2e.test_billing_flow import signed_in
from tests.observability.records import row, store
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.browser

PAGES = [
    "/dashboard/", "/dashboard/keys/", "/dashboard/keys/{key}/", "/dashboard/members/",
    "/dashboard/settings/", "/dashboard/settings/low-balance/", "/billing/wallet/",
    "/billing/invoices/", "/billing/usage/", "/billing/details/", "/compliance/policy/",
    "/compliance/byok/", "/compliance/audit/", "/routing/explain/", "/models", "/docs/",
    "/requests/", "/requests/{request}/",
    "/dashboard/alerts/",
    "/analytics/",
]
OVERFLOW = "document.documentElement.scrollWidth > document.documentElement.clientWidth"


@pytest.mark.parametrize("width", [390, 1280])
def test_no_dashboard_page_scrolls_sideways(start_gateway_server, browser_page, width):
    owner = member(Role.OWNER)
    key, _ = api_key(owner.org, name="a key with a rather long name for a narrow screen")
    now = timezone.now()
    for days_ago in (0, 1, 5):
        usage(owner.org, key=key, at=now - dt.timedelta(days=days_ago),
              model="anthropic/claude-sonnet-4", charge=123_456_789)
        store_request_records([RequestRow(
            request_id=f"gen-{days_ago}", created_at=now - dt.timedelta(days=days_ago),
            org_id=owner.org_id, key_id=key.pk, model_requested="anthropic/claude-sonnet-4",
            model_served="anthropic/claude-sonnet-4", provider="anthropic", status=200,
            outcome="success", cost_nanos=123_456_789, latency_ms=900, ttft_ms=200,
            app="an app with a rather long name for a narrow screen")])
    logged = store(row(owner.org, at=now, key=key, app="A rather long application title here",
                       model_requested="openrouter/auto", model_served="anthropic/claude-sonnet-4",
                       provider="sandbox-anthropic", is_fallback=True, status=502,
                       outcome="failed", error_type="upstream_5xx", error_message="x" * 300,
                       attempts=[
                           {"endpoint_id": 7, "provider": "sandbox-anthropic-long-name",
                            "status": 503, "latency_ms": 1234,
                            "error": "upstream answered 503 Service Unavailable " * 3}]))[0]
    # Open alerts (no credit: low balance; a flood of failures: error rate), so the banner
    # shows on every page.
    store_request_records([RequestRow(
        request_id=f"gen-width-{i}", created_at=now, org_id=owner.org.pk, key_id=key.pk,
        model_requested="anthropic/claude-sonnet-4", status=502, outcome="failed",
        error_type="upstream_5xx") for i in range(25)])
    evaluate_alerts()
    rollup_requests()
    server = start_gateway_server()
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    signed_in(page, server.url, owner.user)

    too_wide = []
    for path in PAGES:
        response = page.goto(server.url + path.format(key=key.pk, request=logged.request_id))
        assert response is not None and response.status == 200, path
        if page.evaluate(OVERFLOW):
            too_wide.append((path, page.evaluate("document.documentElement.scrollWidth")))
    assert too_wide == []
