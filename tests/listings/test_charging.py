"""record_event: an impression or click counts once, reserves the campaign's budget and charges
the vendor's wallet in one transaction; crawlers, other browsers and spent budgets pay nothing."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Sum

from billing.models import SponsoredCharge, Wallet
from billing.services.ledger import check_wallet_consistency
from marketplace.listings.charging import SPONSORED_IMPRESSION_WINDOW_S, dedupe_key, record_event
from marketplace.listings.models import AdEvent, Campaign, CampaignStatus, Pricing
from tests.listings.money_factories import USD, campaign, ticket, vendor

pytestmark = pytest.mark.django_db

BROWSER = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0.0.0 Safari/537.36")
NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def balance(org) -> int:
    return Wallet.objects.get(org=org).balance_nanos


def impression(t, *, viewer=None, ua=BROWSER, now=NOON):
    return record_event(t, "impression", viewer=viewer or t.viewer, user_agent=ua, now=now)


def test_the_same_view_counts_once_and_a_new_window_counts_again():
    org = vendor(balance_nanos=10 * USD)
    c = campaign(org, bid_nanos=3 * USD)  # 3_000_000 nanos an impression
    t = ticket(c)
    first = impression(t)
    assert first.counted and first.billed_nanos == 3_000_000 and first.reason == "billed"
    again = impression(t, now=NOON + timedelta(seconds=SPONSORED_IMPRESSION_WINDOW_S - 1))
    assert not again.counted and again.reason == "duplicate"
    assert AdEvent.objects.count() == 1
    later = impression(t, now=NOON + timedelta(seconds=SPONSORED_IMPRESSION_WINDOW_S))
    assert later.counted and later.billed_nanos == 3_000_000
    c.refresh_from_db()
    assert (c.impressions, c.spent_nanos, c.spent_day_nanos) == (2, 6_000_000, 6_000_000)
    assert balance(org) == 10 * USD - 6_000_000
    assert SponsoredCharge.objects.filter(org=org).aggregate(t=Sum("amount_nanos"))["t"] \
        == 6_000_000
    assert check_wallet_consistency(org).ok


def test_another_slot_page_or_viewer_is_another_impression():
    org = vendor()
    c = campaign(org)
    for t in (ticket(c), ticket(c, slot=2), ticket(c, page="/models?q=y"),
              ticket(c, viewer="viewer-b")):
        assert impression(t).counted
    assert AdEvent.objects.filter(campaign=c).count() == 4
    assert len({e.dedupe_key for e in AdEvent.objects.all()}) == 4


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36",
    "curl/8.5.0", "python-requests/2.32.3", "", None,
])
def test_known_crawlers_and_scripts_are_neither_counted_nor_billed(agent):
    org = vendor(balance_nanos=USD)
    c = campaign(org)
    outcome = impression(ticket(c), ua=agent)
    assert (outcome.counted, outcome.billed_nanos, outcome.reason) == (False, 0, "crawler")
    assert not AdEvent.objects.exists() and not SponsoredCharge.objects.exists()
    assert balance(org) == USD


def test_a_ticket_sent_by_another_browser_counts_nothing():
    org = vendor(balance_nanos=USD)
    c = campaign(org)
    outcome = impression(ticket(c, viewer="served-to"), viewer="someone-else")
    assert outcome.reason == "viewer" and not outcome.counted
    clicked = record_event(ticket(c, viewer="served-to"), "click", viewer="someone-else",
                           user_agent=BROWSER, now=NOON)
    assert clicked.reason == "viewer"
    assert not AdEvent.objects.exists() and balance(org) == USD


def test_daily_budget_runs_out_mid_day_and_spend_equals_it_exactly():
    org = vendor(balance_nanos=100 * USD)
    price = 2_000_000
    c = campaign(org, bid_nanos=price * 1000, daily_budget_nanos=5 * price,
                 total_budget_nanos=12 * price)
    outcomes = [impression(ticket(c, viewer=f"v{i}"), now=NOON + timedelta(minutes=i))
                for i in range(8)]
    assert [o.reason for o in outcomes] == ["billed"] * 5 + ["budget"] * 3
    c.refresh_from_db()
    assert c.spent_day_nanos == c.daily_budget_nanos == c.spent_nanos
    assert c.impressions == 5
    assert AdEvent.objects.filter(campaign=c).count() == 5  # the refused events rolled back
    assert balance(org) == 100 * USD - 5 * price
    # A new UTC day has a new daily budget, until the total one runs out.
    tomorrow = NOON + timedelta(days=1)
    outcomes = [impression(ticket(c, viewer=f"w{i}"), now=tomorrow + timedelta(minutes=i))
                for i in range(8)]
    assert [o.reason for o in outcomes] == ["billed"] * 5 + ["budget"] * 3
    day3 = [impression(ticket(c, viewer=f"x{i}"), now=tomorrow + timedelta(days=1, minutes=i))
            for i in range(4)]
    assert [o.reason for o in day3] == ["billed"] * 2 + ["budget"] * 2
    c.refresh_from_db()
    assert c.spent_nanos == c.total_budget_nanos == 12 * price
    assert c.spent_day_nanos == 2 * price and c.spent_day == date(2026, 12, 2)
    assert balance(org) == 100 * USD - 12 * price
    assert SponsoredCharge.objects.filter(org=org).count() == 12
    assert check_wallet_consistency(org).ok


def test_a_price_that_does_not_fit_the_rest_of_the_budget_is_not_billed():
    org = vendor()
    c = campaign(org, bid_nanos=3_000_000_000, daily_budget_nanos=10_000_000,
                 total_budget_nanos=10_000_000)  # 3_000_000 an impression: three fit
    reasons = [impression(ticket(c, viewer=f"v{i}")).reason for i in range(4)]
    assert reasons == ["billed"] * 3 + ["budget"]
    c.refresh_from_db()
    assert c.spent_nanos == 9_000_000 <= c.total_budget_nanos


def test_a_wallet_that_cannot_pay_charges_nothing_and_counts_nothing():
    price = 2_000_000
    org = vendor(balance_nanos=3 * price - 1)
    c = campaign(org, bid_nanos=price * 1000)
    reasons = [impression(ticket(c, viewer=f"v{i}")).reason for i in range(4)]
    assert reasons == ["billed", "billed", "wallet", "wallet"]
    c.refresh_from_db()
    assert (c.spent_nanos, c.impressions) == (2 * price, 2)
    assert AdEvent.objects.count() == 2 and SponsoredCharge.objects.count() == 2
    assert balance(org) == price - 1
    assert check_wallet_consistency(org).ok


def test_the_credit_limit_and_open_holds_bound_what_the_wallet_can_pay():
    price = 2_000_000
    org = vendor(balance_nanos=price, credit_limit_nanos=price)
    Wallet.objects.filter(org=org).update(held_nanos=price)  # an in-flight request's hold
    c = campaign(org, bid_nanos=price * 1000)
    assert impression(ticket(c, viewer="a")).reason == "billed"  # balance 2p + limit - held p
    assert impression(ticket(c, viewer="b")).reason == "wallet"
    assert balance(org) == 0


def test_per_click_campaign_counts_impressions_free_and_bills_each_click_once_a_day():
    org = vendor(balance_nanos=10 * USD)
    c = campaign(org, pricing=Pricing.CPC, bid_nanos=400_000_000)
    t = ticket(c)
    seen = impression(t)
    assert (seen.counted, seen.billed_nanos, seen.reason) == (True, 0, "free")
    click = record_event(t, "click", viewer=t.viewer, user_agent=BROWSER, now=NOON)
    assert (click.counted, click.billed_nanos) == (True, 400_000_000)
    again = record_event(t, "click", viewer=t.viewer, user_agent=BROWSER,
                         now=NOON + timedelta(hours=3))
    assert again.reason == "duplicate"
    next_day = record_event(t, "click", viewer=t.viewer, user_agent=BROWSER,
                            now=NOON + timedelta(days=1))
    assert next_day.billed_nanos == 400_000_000
    c.refresh_from_db()
    assert (c.impressions, c.clicks, c.spent_nanos) == (1, 2, 800_000_000)
    assert list(SponsoredCharge.objects.values_list("event", flat=True)) == ["click", "click"]
    assert balance(org) == 10 * USD - 800_000_000


def test_a_click_on_a_per_thousand_campaign_is_counted_free():
    org = vendor(balance_nanos=USD)
    c = campaign(org)
    t = ticket(c)
    outcome = record_event(t, "click", viewer=t.viewer, user_agent=BROWSER, now=NOON)
    assert (outcome.counted, outcome.billed_nanos, outcome.reason) == (True, 0, "free")
    c.refresh_from_db()
    assert (c.clicks, c.spent_nanos) == (1, 0)
    assert not SponsoredCharge.objects.exists() and balance(org) == USD


@pytest.mark.parametrize("change", [
    {"status": CampaignStatus.PAUSED}, {"status": CampaignStatus.STAFF_PAUSED},
    {"starts_on": date(2026, 12, 1)}, {"ends_on": date(2026, 11, 29)},
])
def test_paused_or_out_of_dates_campaigns_are_not_billable(change):
    org = vendor(balance_nanos=USD)
    c = campaign(org)
    Campaign.objects.filter(pk=c.pk).update(**change)
    assert impression(ticket(c)).reason == "budget"
    assert not AdEvent.objects.exists() and balance(org) == USD


def test_the_last_day_of_a_campaign_still_counts():
    c = campaign(vendor(), ends_on=date(2026, 11, 30))
    assert impression(ticket(c)).reason == "billed"


def test_a_deleted_campaign_counts_nothing():
    c = campaign(vendor())
    t = ticket(c)
    Campaign.objects.filter(pk=c.pk).delete()
    assert impression(t).reason == "gone"


def test_dedupe_keys_are_the_windows_and_days_described():
    c = campaign(vendor())
    t = ticket(c)
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a window boundary (1800 s divides it)
    assert dedupe_key(t, "impression", start) == dedupe_key(
        t, "impression", start + timedelta(seconds=1799))
    assert dedupe_key(t, "impression", start) != dedupe_key(
        t, "impression", start - timedelta(seconds=1))
    assert dedupe_key(t, "click", start.replace(hour=0)) == dedupe_key(
        t, "click", start.replace(hour=23, minute=59))
    assert dedupe_key(t, "click", start) != dedupe_key(t, "impression", start)
