"""Browser: a vendor fills the campaign form (no script needed), pauses and resumes it, and the
report page draws its chart (vendored Chart.js under the CSP) beside the table."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from marketplace.listings.models import AdEvent, Campaign
from tests.e2e.test_billing_flow import signed_in
from tests.listings.factories import vendor

pytestmark = pytest.mark.browser

OVERFLOW = "document.documentElement.scrollWidth > document.documentElement.clientWidth"
CHART = """(id) => {
    const chart = Chart.getChart(document.getElementById(id));
    return {series: chart.data.datasets.map((d) => d.label),
            sums: chart.data.datasets.map((d) => d.data.reduce((a, b) => a + b, 0))};
}"""


def test_a_vendor_creates_a_campaign_and_reads_its_report(start_gateway_server, browser_page,
                                                           tmp_path):
    v = vendor(name="Acme Models")
    server = start_gateway_server()
    page = browser_page
    errors = []
    # The refused form answers 400 (the house rule), which the console reports: not an error.
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "status of 400" not in m.text else None)
    signed_in(page, server.url, v.owner.user)

    page.goto(f"{server.url}/dashboard/")
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill("Launch week")
    page.get_by_label("Per click").check()
    page.get_by_label("Top of a catalog category or search").check()
    page.get_by_label("Extraction").check()
    page.get_by_label("Bid (USD)").fill("0.25")
    page.get_by_label("Daily budget (USD)").fill("500")  # more than the total: refused
    page.get_by_label("Total budget (USD)").fill("100")
    page.get_by_label("Starts on").fill(timezone.now().date().isoformat())
    page.get_by_role("button", name="Create campaign").click()
    expect(page.locator("#id_daily_budget_usd_errors")).to_contain_text(
        "cannot exceed the total budget")
    page.screenshot(path=str(tmp_path / "campaign-form-error.png"), full_page=True)
    page.get_by_label("Daily budget (USD)").fill("10")
    page.get_by_role("button", name="Create campaign").click()
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#campaign-status")).to_have_text("Paused by the vendor")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#campaign-status")).to_have_text("Active")
    campaign = Campaign.objects.get()
    assert (campaign.bid_nanos, campaign.target_tasks) == (250_000_000, ["extraction"])

    day = timezone.now().replace(hour=9, minute=0) - dt.timedelta(days=1)
    for i, kind in enumerate(["impression"] * 4 + ["click"]):
        AdEvent.objects.create(org=v.org, campaign=campaign, kind=kind, placement="catalog",
                               page="/models", slot=1, viewer=f"v{i}", dedupe_key=f"k{i}",
                               price_nanos=250_000_000 if kind == "click" else 0,
                               created_at=day)
    page.get_by_role("link", name="Report").first.click()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('report-chart'))")
    chart = page.evaluate(CHART, "report-chart")
    assert chart == {"series": ["Spend", "Impressions", "Clicks"], "sums": [0.25, 4, 1]}
    expect(page.locator("#report-table tbody tr")).to_have_count(1)
    expect(page.locator("#report-table tbody td").nth(4)).to_have_text("25.00%")
    expect(page.locator("#conversions")).to_have_text("fewer than 5")
    page.screenshot(path=str(tmp_path / "campaign-report.png"), full_page=True)
    page.get_by_role("link", name="Your models").click()
    expect(page.locator(f'[data-model="{v.model.slug}"]')).to_be_visible()
    page.screenshot(path=str(tmp_path / "vendor-models.png"), full_page=True)
    # On a phone no vendor page scrolls sideways (wide tables scroll in their own box).
    page.set_viewport_size({"width": 390, "height": 800})
    for path in ("/vendor/campaigns/", f"/vendor/campaigns/{campaign.pk}/",
                 f"/vendor/campaigns/{campaign.pk}/report/", "/vendor/models/",
                 "/vendor/listings/", "/vendor/campaigns/new/"):
        page.goto(f"{server.url}{path}")
        assert not page.evaluate(OVERFLOW), path
    assert errors == []
