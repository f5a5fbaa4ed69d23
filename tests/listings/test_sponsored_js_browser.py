"""Browser: static/js/sponsored.js sends one impression beacon once at least half of a slot has
been in view for a second (not before, not while it is scrolled away), and a click beacon when
its link is followed; the live server counts each once for this browser's session."""

import time
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect

from marketplace.listings.models import AdEvent, Pricing
from marketplace.listings.tickets import viewer_key
from tests.listings.money_factories import USD, campaign, ticket, token, vendor

pytestmark = pytest.mark.browser

# Headless Chromium calls itself HeadlessChrome, a crawler we never bill: this page says it is
# the desktop browser it otherwise is.
DESKTOP = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0.0.0 Safari/537.36")

SLOT = """(token) => {
  const spacer = document.createElement("div");
  spacer.id = "spacer";
  spacer.style.height = "3000px";
  const slot = document.createElement("aside");
  slot.className = "sponsored-slot";
  slot.dataset.sponsoredToken = token;
  slot.dataset.sponsoredSlot = "1";
  slot.style.height = "120px";
  const link = document.createElement("a");
  link.href = "/docs/";
  link.id = "sponsored-link";
  link.textContent = "Sponsored: a model";
  link.setAttribute("data-sponsored-click", "");
  slot.append(link);
  document.body.append(spacer, slot, Object.assign(document.createElement("div"),
                                                   {style: "height: 3000px"}));
  const script = document.createElement("script");
  script.src = "/static/js/sponsored.js";
  document.body.append(script);
}"""


def counted(c, kind: str) -> int:
    return AdEvent.objects.filter(campaign=c, kind=kind).count()


def wait_until(predicate, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_slot_half_in_view_for_a_second_is_counted_once_and_its_click_too(
        start_gateway_server, browser_page):
    session = SessionStore()
    session.create()
    # The browser gets this session's cookie, so its beacons come from this viewer.
    viewer = viewer_key(SimpleNamespace(user=SimpleNamespace(is_authenticated=False),
                                        session=session))
    org = vendor(balance_nanos=10 * USD)
    c = campaign(org, pricing=Pricing.CPC, bid_nanos=250_000_000)
    tok = token(ticket(c, viewer=viewer, page="/docs/"))
    server = start_gateway_server()

    context = browser_page.context.browser.new_context(user_agent=DESKTOP,
                                                       viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key,
                          "url": server.url}])
    page = context.new_page()
    beacons = []
    page.on("request", lambda r: beacons.append(r.post_data)
            if r.url.endswith("/listings/beacon/") else None)
    page.goto(f"{server.url}/docs/")
    page.evaluate(SLOT, tok)
    expect(page.locator("#sponsored-link")).to_be_attached()

    time.sleep(1.5)  # below the fold: not seen
    assert beacons == [] and counted(c, "impression") == 0
    # In view for less than a second, then away: still not seen.
    page.locator(".sponsored-slot").scroll_into_view_if_needed()
    time.sleep(0.3)
    page.evaluate("window.scrollTo(0, 0)")
    time.sleep(1.5)
    assert beacons == []
    # In view and kept there: one impression beacon, counted once.
    page.locator(".sponsored-slot").scroll_into_view_if_needed()
    assert wait_until(lambda: counted(c, "impression") == 1)
    time.sleep(1.5)
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(".sponsored-slot").scroll_into_view_if_needed()
    time.sleep(1.5)
    assert len(beacons) == 1 and counted(c, "impression") == 1

    with page.expect_navigation():
        page.locator("#sponsored-link").click()
    assert wait_until(lambda: counted(c, "click") == 1)
    c.refresh_from_db()
    assert (c.impressions, c.clicks, c.spent_nanos) == (1, 1, 250_000_000)
    context.close()
