"""A campaign's report for its vendor: per UTC day and placement, impressions, clicks, CTR,
spend and average cost per click, from the counted AdEvents (one grouped query); and
conversions, the orgs that clicked and within 30 days sent requests the campaign's model served.

Conversions are attribution only: the report holds how many orgs converted, never which, and
not even the count below CONVERSION_MIN_ORGS (a count of 1 or 2 would point at an org).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncDate

from core.money import api_usd, request_cost_usd
from marketplace.listings.models import AdEvent, Campaign, EventKind, Pricing
from observability.selectors import orgs_with_requests_to

CONVERSION_WINDOW = dt.timedelta(days=30)
CONVERSION_MIN_ORGS = 5


def _div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator in whole nanos, half up (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True, slots=True)
class ReportRow:
    day: dt.date | None  # None on the totals row
    placement: str  # "" on the totals row
    impressions: int
    clicks: int
    spend_nanos: int  # impressions and clicks
    click_spend_nanos: int  # clicks only (zero for CPM campaigns)
    pricing: str

    @property
    def ctr(self) -> float | None:
        """Clicks per impression (a ratio, not money); None with no impression."""
        return self.clicks / self.impressions if self.impressions else None

    @property
    def avg_cpc_nanos(self) -> int | None:
        """Spend on clicks per click; for CPM campaigns, which pay for impressions, all spend
        per click. None with no click."""
        if not self.clicks:
            return None
        spend = self.click_spend_nanos if self.pricing == Pricing.CPC else self.spend_nanos
        return _div_half_up(spend, self.clicks)


@dataclass(frozen=True, slots=True)
class Conversions:
    clicked_orgs: int  # signed-in orgs that clicked (a count, shown like conversions)
    converted: int | None  # None: fewer than CONVERSION_MIN_ORGS, not shown

    @property
    def shown(self) -> bool:
        return self.converted is not None


@dataclass(frozen=True, slots=True)
class CampaignReport:
    rows: list[ReportRow]  # by day, then placement
    totals: ReportRow
    conversions: Conversions


def _rows(campaign: Campaign, since: dt.date | None, until: dt.date | None) -> list[ReportRow]:
    events = AdEvent.objects.filter(campaign=campaign)
    if since is not None:
        events = events.filter(created_at__gte=dt.datetime.combine(since, dt.time.min, dt.UTC))
    if until is not None:
        events = events.filter(created_at__lt=dt.datetime.combine(
            until + dt.timedelta(days=1), dt.time.min, dt.UTC))
    click = Q(kind=EventKind.CLICK)
    grouped = (
        events.annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .values("day", "placement")
        .annotate(impressions=Count("id", filter=Q(kind=EventKind.IMPRESSION)),
                  clicks=Count("id", filter=click),
                  spend=Sum("price_nanos"),
                  click_spend=Sum("price_nanos", filter=click))
        .order_by("day", "placement")
    )
    return [ReportRow(day=g["day"], placement=g["placement"], impressions=g["impressions"],
                      clicks=g["clicks"], spend_nanos=g["spend"] or 0,
                      click_spend_nanos=g["click_spend"] or 0, pricing=campaign.pricing)
            for g in grouped]


def _conversions(campaign: Campaign) -> Conversions:
    first_clicks = dict(
        AdEvent.objects.filter(campaign=campaign, kind=EventKind.CLICK, viewer_org__isnull=False)
        .exclude(viewer_org=campaign.org_id)  # the vendor's own clicks convert nobody
        .values("viewer_org").annotate(first=Min("created_at"))
        .values_list("viewer_org", "first").order_by()
    )
    # From each org's first click: a conversion is counted once per org, however many clicks.
    converted = orgs_with_requests_to(campaign.model.slug, first_clicks,
                                      window=CONVERSION_WINDOW) if first_clicks else set()
    count = len(converted)
    return Conversions(clicked_orgs=len(first_clicks),
                       converted=count if count >= CONVERSION_MIN_ORGS else None)


def campaign_report(campaign: Campaign, *, since: dt.date | None = None,
                    until: dt.date | None = None) -> CampaignReport:
    """The report of a campaign the caller already accessed (selectors.access_campaign)."""
    rows = _rows(campaign, since, until)
    totals = ReportRow(day=None, placement="",
                       impressions=sum(r.impressions for r in rows),
                       clicks=sum(r.clicks for r in rows),
                       spend_nanos=sum(r.spend_nanos for r in rows),
                       click_spend_nanos=sum(r.click_spend_nanos for r in rows),
                       pricing=campaign.pricing)
    return CampaignReport(rows=rows, totals=totals, conversions=_conversions(campaign))


def daily_chart(report: CampaignReport) -> dict:
    """Spend (bars, USD) and impressions and clicks (lines) per day, in core/charts.py's
    shape for static/js/charts.js."""
    days = sorted({r.day for r in report.rows if r.day is not None})
    index = {day: i for i, day in enumerate(days)}
    spend, impressions, clicks = [0] * len(days), [0] * len(days), [0] * len(days)
    for r in report.rows:
        i = index[r.day]
        spend[i] += r.spend_nanos
        impressions[i] += r.impressions
        clicks[i] += r.clicks

    def counts(label: str, values: list[int]) -> dict:
        return {"label": label, "axis": "count", "kind": "line", "values": values,
                "display": [f"{n:,}" for n in values]}

    return {
        "labels": [d.isoformat() for d in days], "stacked": False,
        "count_title": "Impressions and clicks",
        "series": [
            {"label": "Spend", "axis": "usd", "kind": "bar",
             "values": [api_usd(n) for n in spend],
             "display": [request_cost_usd(n) for n in spend]},
            counts("Impressions", impressions),
            counts("Clicks", clicks),
        ] if days else [],
    }
