"""Vendor reports from fixed events: per day and placement, CTR, spend, average cost per
click; conversions shown from five orgs and hidden below; the report API and page."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from marketplace.listings.models import AdEvent, Pricing
from marketplace.listings.reports import campaign_report, daily_chart
from tests.listings.factories import campaign, catalog_model, vendor
from tests.observability.records import row, store
from tests.tenancy.factories import OrganizationFactory, session_client

pytestmark = pytest.mark.django_db

_keys = itertools.count(1)
NOW = timezone.now().replace(microsecond=0)
DAY1 = (NOW - dt.timedelta(days=2)).replace(hour=10, minute=0, second=0)
DAY2 = DAY1 + dt.timedelta(days=1)


def _event(c, kind: str, *, at, placement="catalog", price=0, viewer_org=None):
    return AdEvent.objects.create(
        org=c.org, campaign=c, kind=kind, placement=placement, page="/models", slot=1,
        viewer=f"viewer-{next(_keys)}", viewer_org=viewer_org,
        dedupe_key=f"dedupe-{next(_keys)}", price_nanos=price, created_at=at)


def _fixed_cpc_events(c):
    for _ in range(4):
        _event(c, "impression", at=DAY1)
    _event(c, "click", at=DAY1, price=300_000_000)
    for _ in range(2):
        _event(c, "impression", at=DAY1 + dt.timedelta(hours=1), placement="alternatives")
    for _ in range(3):
        _event(c, "impression", at=DAY2)
    _event(c, "click", at=DAY2, price=250_000_000)
    _event(c, "click", at=DAY2 + dt.timedelta(minutes=5), price=200_000_000)


def test_rows_per_day_and_placement_with_ctr_spend_and_average_cpc():
    c = campaign()
    _fixed_cpc_events(c)
    other = campaign()  # another campaign's events count nowhere here
    _event(other, "click", at=DAY1, price=999)
    report = campaign_report(c)
    got = [(r.day, r.placement, r.impressions, r.clicks, r.spend_nanos, r.avg_cpc_nanos)
           for r in report.rows]
    assert got == [
        (DAY1.date(), "alternatives", 2, 0, 0, None),
        (DAY1.date(), "catalog", 4, 1, 300_000_000, 300_000_000),
        (DAY2.date(), "catalog", 3, 2, 450_000_000, 225_000_000),
    ]
    assert [r.ctr for r in report.rows] == [0.0, 0.25, 2 / 3]
    t = report.totals
    assert (t.impressions, t.clicks, t.spend_nanos, t.avg_cpc_nanos) == (9, 3, 750_000_000,
                                                                         250_000_000)
    assert t.ctr == pytest.approx(1 / 3)
    chart = daily_chart(report)
    assert chart["labels"] == [DAY1.date().isoformat(), DAY2.date().isoformat()]
    assert [s["values"] for s in chart["series"]] == [["0.3", "0.45"], [6, 3], [1, 2]]


def test_cpm_average_cost_per_click_is_all_spend_per_click_rounded_half_up():
    c = campaign(pricing=Pricing.CPM)
    for _ in range(3):
        _event(c, "impression", at=DAY1, price=1_000_001)
    _event(c, "click", at=DAY1)
    _event(c, "click", at=DAY1)
    r = campaign_report(c).totals
    assert (r.spend_nanos, r.clicks, r.avg_cpc_nanos) == (3_000_003, 2, 1_500_002)


def _clicker(c, *, clicked_at):
    org = OrganizationFactory()
    _event(c, "click", at=clicked_at, viewer_org=org)
    return org


def _conversion_fixture():
    v = vendor()
    c = campaign(v)
    slug = c.model.slug
    clicked = NOW - dt.timedelta(days=10)
    converters = [_clicker(c, clicked_at=clicked) for _ in range(5)]
    # Clicked twice: one conversion, counted from the first click.
    _event(c, "click", at=clicked + dt.timedelta(days=1), viewer_org=converters[0])
    rows = [row(org, at=clicked + dt.timedelta(days=2), model_served=slug)
            for org in converters]
    too_late = _clicker(c, clicked_at=NOW - dt.timedelta(days=40))
    failed = _clicker(c, clicked_at=clicked)
    other_model = _clicker(c, clicked_at=clicked)
    not_after = _clicker(c, clicked_at=NOW - dt.timedelta(days=1))
    rows += [
        row(too_late, at=NOW - dt.timedelta(days=5), model_served=slug),
        row(failed, at=NOW - dt.timedelta(days=5), model_served=slug, outcome="failed",
            status=502, error_type="upstream_5xx"),
        row(other_model, at=NOW - dt.timedelta(days=5),
            model_served=catalog_model().slug),
        row(not_after, at=NOW - dt.timedelta(days=2), model_served=slug),
        row(v.org, at=NOW - dt.timedelta(days=2), model_served=slug),
    ]
    _event(c, "click", at=clicked, viewer_org=v.org)  # the vendor's own click
    _event(c, "click", at=clicked)  # signed out: no org to attribute
    store(*rows)
    return v, c, converters


def test_conversions_count_orgs_that_clicked_then_used_the_model_within_30_days():
    _, c, _ = _conversion_fixture()
    conversions = campaign_report(c).conversions
    assert (conversions.clicked_orgs, conversions.converted, conversions.shown) == (9, 5, True)


def test_conversions_below_five_orgs_are_not_shown():
    _, c, converters = _conversion_fixture()
    AdEvent.objects.filter(campaign=c, viewer_org=converters[1]).delete()
    conversions = campaign_report(c).conversions
    assert (conversions.clicked_orgs, conversions.converted, conversions.shown) == (8, None,
                                                                                   False)


def test_the_report_api_and_page_show_the_same_figures_and_hide_small_conversions():
    v, c, converters = _conversion_fixture()
    _fixed_cpc_events(c)
    client = session_client(v.owner)
    body = client.get(f"/api/v1/listings/campaigns/{c.pk}/report/").json()
    totals = body["totals"]
    assert (totals["impressions"], totals["clicks"]) == (9, 3 + 12)  # the fixture: 12 clicks
    assert body["conversions"]["converted_orgs"] == 5
    assert "org" not in str(body["rows"])  # never which org
    page = client.get(f"/vendor/campaigns/{c.pk}/report/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="report-chart-data"' in html and 'data-chart="report-chart-data"' in html
    assert '<p class="figure" id="conversions">5</p>' in html

    AdEvent.objects.filter(campaign=c, viewer_org=converters[1]).delete()
    body = client.get(f"/api/v1/listings/campaigns/{c.pk}/report/").json()
    assert body["conversions"]["converted_orgs"] is None
    assert body["conversions"]["note"] == "fewer than 5 orgs converted"
    html = client.get(f"/vendor/campaigns/{c.pk}/report/").content.decode()
    assert '<p class="figure" id="conversions">fewer than 5</p>' in html


def test_report_dates_filter_and_bad_dates_are_400():
    v = vendor()
    c = campaign(v)
    _fixed_cpc_events(c)
    client = session_client(v.owner)
    url = f"/api/v1/listings/campaigns/{c.pk}/report/"
    body = client.get(url, {"since": DAY2.date().isoformat()}).json()
    assert [r["day"] for r in body["rows"]] == [DAY2.date().isoformat()]
    assert body["totals"]["avg_cpc_usd"] == "0.225"
    assert client.get(url, {"until": "yesterday"}).status_code == 400
