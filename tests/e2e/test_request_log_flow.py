"""Browser: the request log filters (status, model), pages to older rows keeping the filters,
and a request's page shows every attempt."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from marketplace.tenancy.models import Role
from tests.e2e.test_billing_flow import signed_in
from tests.observability.records import row, store
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.browser


def _shown(page) -> list[str]:
    return page.locator("#request-table tbody tr[data-request-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.requestId)")


def test_the_request_log_filters_pages_and_opens_a_request(start_gateway_server, browser_page):
    m = member(Role.DEVELOPER)  # every member reads the log
    key, _ = api_key(m.org, name="backend")
    now = timezone.now()
    served = store(*[row(m.org, at=now - dt.timedelta(minutes=i), key=key)
                     for i in range(1, 61)])
    failed = store(
        row(m.org, at=now - dt.timedelta(seconds=30), key=key, status=502, outcome="failed",
            error_type="upstream_5xx", model_requested="anthropic/claude-sonnet-4",
            model_served="", provider="sandbox-anthropic", attempts=[
                {"endpoint_id": 3, "provider": "sandbox-anthropic", "status": 503,
                 "latency_ms": 40, "error": "upstream 503"},
                {"endpoint_id": 4, "provider": "sandbox-anthropic-b", "status": None,
                 "latency_ms": 2000, "error": "timeout"}]),
        row(m.org, at=now - dt.timedelta(hours=3), key=key, status=429, outcome="refused",
            error_type="rate_limit", attempts=[]),
    )
    server = start_gateway_server()
    page = browser_page
    signed_in(page, server.url, m.user)

    page.goto(f"{server.url}/dashboard/")
    page.get_by_role("link", name="Requests").click()
    expect(page.locator("h1")).to_have_text("Requests")
    assert len(_shown(page)) == 50
    expect(page.locator("#request-export")).to_have_count(0)  # developers do not export

    # Filter by status: only the failed request is left.
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#request-table tbody tr[data-request-id]")).to_have_count(1)
    assert _shown(page) == [failed[0].request_id]
    assert "upstream_5xx" in page.locator("#request-table").inner_text()

    # Any status, one model: the 60 served requests, newest first, 50 then 10 older.
    page.get_by_label("Status").select_option("")
    page.get_by_label("Model").fill("openai/gpt-4o-mini")
    page.get_by_role("button", name="Filter").click()
    first = _shown(page)
    newest_first = [r.request_id for r in served] + [failed[1].request_id]
    assert first == newest_first[:50]
    page.get_by_role("link", name="Older →").click()
    expect(page.locator("#request-table tbody tr[data-request-id]")).to_have_count(11)
    assert _shown(page) == newest_first[50:]
    expect(page.get_by_label("Model")).to_have_value("openai/gpt-4o-mini")  # filters kept
    expect(page.get_by_role("link", name="Older →")).to_have_count(0)

    # A request's page lists every attempt, in order, with why it failed over.
    page.goto(f"{server.url}/requests/?status=failed")
    page.locator(f'tr[data-request-id="{failed[0].request_id}"] a').click()
    expect(page.locator("h1")).to_contain_text(failed[0].request_id)
    attempts = page.locator("#request-attempts tbody tr")
    expect(attempts).to_have_count(2)
    expect(attempts.nth(0)).to_contain_text("upstream 503")
    expect(attempts.nth(1)).to_contain_text("timeout")
    expect(page.locator("#request-error")).to_contain_text("upstream_5xx")
