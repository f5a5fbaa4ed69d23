"""Browser, the whole marketplace loop (issue 14): a vendor tops up its wallet through
localstripe and creates a campaign in the form; a developer browsing /models sees the listing
labelled "Sponsored" with the vendor's name; seeing it and clicking it are counted once each
(reloads and second clicks count nothing); the vendor's report shows both, and the spend left
the vendor's wallet.
"""

import time
import uuid

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import SponsoredCharge, Wallet
from catalog.models import Endpoint, EndpointHealth
from catalog.services import bump_catalog_version
from marketplace.listings.models import AdEvent, Campaign
from marketplace.tenancy.models import Membership, Organization
from tests.e2e.test_billing_flow import (
    CARD_3DS,
    complete_3ds_when_asked,
    fill_card,
    register_webhook,
    signed_in,
)
from tests.listings.factories import vendor

pytestmark = pytest.mark.browser

# Headless Chromium names itself HeadlessChrome, which we never bill; the developer's browser
# says it is the desktop Chrome it otherwise is.
DESKTOP = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0.0.0 Safari/537.36")


@pytest.fixture
def stripe_env(localstripe):
    """STRIPE_* for the server child (tests/fixtures/live_server.py reads this fixture)."""
    return localstripe.env


def counted(campaign: Campaign, kind: str) -> int:
    return AdEvent.objects.filter(campaign=campaign, kind=kind).count()


def eventually(predicate, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def measured(model) -> None:
    """A day of good health for the model's endpoints, so it passes the quality gates."""
    for endpoint in Endpoint.objects.filter(model=model):
        EndpointHealth.objects.create(endpoint=endpoint, window="1d", uptime_bps=9_990,
                                      p50_latency_ms=400, error_rate_bps=10, sample_count=500,
                                      computed_at=timezone.now())
    bump_catalog_version()


def test_vendor_buys_a_listing_a_developer_sees_and_clicks_it_once(
        localstripe, start_gateway_server, browser_page, tmp_path):
    acme = vendor(name="Acme Models", funds_nanos=0)
    measured(acme.model)
    developer_org = Organization.objects.create(name="Dev Co", slug=f"dev-{uuid.uuid4().hex[:6]}")
    developer = get_user_model().objects.create_user(
        username="dev-e2e", email="dev-e2e@example.com", password="pw-long-enough-1")
    Membership.objects.create(org=developer_org, user=developer, role="developer")
    server = start_gateway_server()
    register_webhook(localstripe, server.url)

    # The vendor tops up $25 with a card, then creates a per-thousand-impressions campaign.
    page = browser_page
    signed_in(page, server.url, acme.owner.user)
    page.goto(f"{server.url}/billing/wallet/")
    page.fill("#topup-amount", "25.00")
    fill_card(page, CARD_3DS)
    page.click("#topup-submit")
    assert complete_3ds_when_asked(page) == 2
    expect(page.locator("#wallet-balance")).to_have_text("$25.00", timeout=30_000)

    page.goto(f"{server.url}/vendor/campaigns/new/")
    page.get_by_label("Name").fill("Launch week")
    page.get_by_label("Per thousand impressions").check()
    page.get_by_label("Top of a catalog category or search").check()
    page.get_by_label("Bid (USD)").fill("20.00")
    page.get_by_label("Daily budget (USD)").fill("5")
    page.get_by_label("Total budget (USD)").fill("10")
    page.get_by_label("Starts on").fill(timezone.now().date().isoformat())
    page.get_by_role("button", name="Create campaign").click()
    expect(page.locator("#campaign-status")).to_have_text("Active")
    campaign = Campaign.objects.get(org=acme.org)

    # A developer browses the catalog in a browser of its own.
    dev_context = page.context.browser.new_context(user_agent=DESKTOP,
                                                   viewport={"width": 1280, "height": 900})
    dev_context.set_default_timeout(15_000)
    client = Client()
    client.force_login(developer)
    dev_context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                              "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                              "url": server.url}])
    dev = dev_context.new_page()
    dev.goto(f"{server.url}/models")
    slot = dev.locator(".sponsored-slot")
    expect(slot).to_have_count(1)
    expect(slot.locator(".sponsored-label")).to_have_text("Sponsored · Acme Models")
    expect(slot.get_by_role("link", name=acme.model.name)).to_be_visible()
    dev.screenshot(path=str(tmp_path / "catalog-sponsored.png"))

    assert eventually(lambda: counted(campaign, "impression") == 1)
    dev.reload()
    expect(dev.locator(".sponsored-slot")).to_have_count(1)
    time.sleep(2.5)  # in view past the dwell again: the same view within the window
    assert counted(campaign, "impression") == 1

    dev.locator(".sponsored-slot a[data-sponsored-click]").click()
    dev.wait_for_url(f"**/models/{acme.model.slug}")
    assert eventually(lambda: counted(campaign, "click") == 1)
    dev.go_back()
    dev.locator(".sponsored-slot a[data-sponsored-click]").click()
    dev.wait_for_url(f"**/models/{acme.model.slug}")
    time.sleep(1.0)
    assert counted(campaign, "click") == 1
    dev_context.close()

    # Alone in the auction, the vendor pays the reserve (second price), not its $20 bid: one
    # impression at $0.50 per thousand, charged once, out of the vendor's wallet.
    price = settings.SPONSORED_RESERVE_CPM_NANOS // 1000
    charges = SponsoredCharge.objects.filter(org=acme.org)
    assert [c.amount_nanos for c in charges] == [price]
    assert Wallet.objects.get(org=acme.org).balance_nanos == 25 * 10**9 - price
    campaign.refresh_from_db()
    assert (campaign.spent_nanos, campaign.impressions, campaign.clicks) == (price, 1, 1)

    # The vendor's report shows the view and the click.
    page.goto(f"{server.url}/vendor/campaigns/{campaign.pk}/report/")
    totals = page.locator("#report-table tfoot td")
    expect(totals.nth(0)).to_have_text("1")  # impressions
    expect(totals.nth(1)).to_have_text("1")  # clicks
    expect(totals.nth(2)).to_have_text("100.00%")
    expect(totals.nth(3)).to_have_text("$0.0005")  # spend: sub-cent, shown exactly
    page.screenshot(path=str(tmp_path / "vendor-report.png"), full_page=True)
