"""Browser: the analytics page draws its charts with data (vendored Chart.js under the CSP),
and switching the breakdown from model to provider changes the legend and the tables."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from marketplace.tenancy.models import Role
from observability.recording import RequestRow, store_request_records
from observability.rollups import rollup_requests
from tests.e2e.test_billing_flow import signed_in
from tests.tenancy.factories import member

pytestmark = pytest.mark.browser

TRAFFIC = [  # hours ago, model, provider, cost in nanos
    (2, "openai/gpt-4o-mini", "openai", 2_000_000),
    (2, "openai/gpt-4o-mini", "azure", 1_000_000),
    (30, "anthropic/claude-sonnet-4", "anthropic", 40_000_000),
    (50, "openai/gpt-4o-mini", "openai", 3_000_000),
]

CHART = """(id) => {
    const chart = Chart.getChart(document.getElementById(id));
    const canvas = document.getElementById(id);
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
    return {series: chart.data.datasets.map((d) => d.label),
            total: chart.data.datasets.reduce((s, d) => s + d.data.reduce((a, b) => a + b, 0), 0),
            painted};
}"""


def test_the_analytics_page_draws_its_charts_and_switches_the_breakdown(
        start_gateway_server, browser_page, tmp_path):
    owner = member(Role.DEVELOPER)
    now = dt.datetime.now(dt.UTC)
    store_request_records([
        RequestRow(request_id=f"gen-{i}", created_at=now - dt.timedelta(hours=hours),
                   org_id=owner.org_id, key_id=None, model_requested=model,
                   model_served=model, provider=provider, status=200, outcome="success",
                   cost_nanos=cost, prompt_tokens=100, completion_tokens=20, latency_ms=400,
                   ttft_ms=120)
        for i, (hours, model, provider, cost) in enumerate(TRAFFIC)])
    rollup_requests()
    server = start_gateway_server()
    page = browser_page
    errors = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    signed_in(page, server.url, owner.user)

    page.goto(f"{server.url}/dashboard/")
    page.get_by_role("link", name="Analytics").click()
    page.get_by_label("Break down by").select_option("model")
    page.get_by_role("button", name="Show").click()

    for chart_id in ("spend-chart", "requests-chart", "tokens-chart"):
        page.wait_for_function(
            f"() => window.Chart && Chart.getChart(document.getElementById('{chart_id}'))")
    spend = page.evaluate(CHART, "spend-chart")
    # Groups in one order (most requests first) on every chart, so each keeps its colour.
    assert spend["series"] == ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4"]
    assert abs(spend["total"] - 0.046) < 1e-9
    assert spend["painted"] > 1000
    requests = page.evaluate(CHART, "requests-chart")
    assert requests["series"] == spend["series"]
    assert requests["total"] == 4 and requests["painted"] > 1000
    assert page.evaluate(CHART, "tokens-chart")["total"] == 480
    expect(page.locator("#requests-table tbody tr")).to_have_count(2)
    page.screenshot(path=str(tmp_path / "analytics-model.png"), full_page=True)

    page.get_by_label("Break down by").select_option("provider")
    page.get_by_role("button", name="Show").click()

    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('requests-chart'))")
    requests = page.evaluate(CHART, "requests-chart")
    assert sorted(requests["series"]) == ["anthropic", "azure", "openai"]
    assert requests["total"] == 4
    expect(page.locator("#requests-heading")).to_have_text("Requests by provider")
    expect(page.locator("#requests-table tbody tr")).to_have_count(3)
    expect(page.locator("#requests-table tbody tr").first).to_contain_text("openai")
    expect(page.locator("#latency-by-provider tbody tr")).to_have_count(3)
    # A developer reads analytics but gets no export.
    expect(page.locator("#analytics-export")).to_have_count(0)
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
