"""Which sponsored listings a page shows: the auction's winners for one placement and viewer.

A campaign competes on a page when it is active and within its dates, bought this placement,
its targeting matches the page (an empty target matches any page; a non-empty one needs a task,
or a capability, the page is about), its budgets and its vendor's wallet can still pay one
charge at its price, its model is not the page's own (`competing_with`), the viewer's org may
reach the model (compliance: a model the org's policy excludes is never shown to it), and the
model passes the quality gates (`auction.gate_reasons`). The auction (`auction.py`) picks at
most two slots; each winner gets a signed ticket (`tickets.py`) its beacons send back.

Known crawlers get no sponsored slots at all: they would never be billed (the beacons ignore
them), so showing them slots would only give vendors unpaid placements in search engines.
Queries per page: the campaigns (with their vendors), the wallets, the viewer's org policy
(and its endpoints when it restricts providers), plus the category's telemetry once a minute.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import Truncator

from billing.selectors.wallet_funds import available_by_org
from catalog import selectors as catalog
from catalog.models import Status
from compliance.selectors import models_excluded_for_org
from marketplace.listings import auction, tickets
from marketplace.listings.crawlers import is_crawler
from marketplace.listings.models import Campaign, CampaignStatus
from marketplace.listings.quality import category_telemetry
from marketplace.tenancy.current_org import current_membership
from marketplace.tenancy.models import OrgKind

# At most this many sponsored slots on one page, whatever the placement.
MAX_SLOTS_PER_PAGE = 2
BLURB_CHARS = 160
VENDOR_KINDS = (OrgKind.VENDOR, OrgKind.BOTH)


@dataclass(frozen=True, slots=True)
class SlotContext:
    placement: str  # models.Placement value
    page: str  # request.get_full_path() of the page the slots go on
    tasks: frozenset[str] = field(default_factory=frozenset)  # what the page is about
    capabilities: frozenset[str] = field(default_factory=frozenset)
    # The model whose page this is (alternatives box): never shown, and its rivals compete.
    competing_with: str | None = None
    # When set, only these models may compete: the recommendation card passes the models that
    # clear its organic bar, so a sponsored recommendation is held to the same one.
    only_models: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class SponsoredSlot:
    campaign_id: int
    slot: int  # 1 or 2, top first
    advertiser: str  # the vendor org's name, shown in the "Sponsored" label
    model_slug: str
    model_name: str
    model_url: str
    blurb: str  # the listing's approved description, shortened
    token: str  # tickets.sign_ticket(...), sent back by the beacons


def sponsored_slots(request, context: SlotContext, *, limit: int = MAX_SLOTS_PER_PAGE
                    ) -> list[SponsoredSlot]:
    """The winners, at most min(limit, MAX_SLOTS_PER_PAGE), best ad rank first."""
    slots = min(limit, MAX_SLOTS_PER_PAGE)
    if slots <= 0 or is_crawler(request.META.get("HTTP_USER_AGENT")):
        return []
    today = timezone.now().date()
    campaigns = [c for c in _live_campaigns(today, context.competing_with)
                 if context.placement in (c.placements or []) and _targets(c, context)
                 and (context.only_models is None or c.model_slug in context.only_models)]
    if not campaigns:
        return []
    stamp = catalog.get_catalog_stamp()
    measured = category_telemetry(capabilities=context.capabilities, tasks=context.tasks,
                                  stamp=stamp)
    viewer_org_id = _viewer_org_id(request)
    excluded = (models_excluded_for_org(viewer_org_id, {c.model_slug for c in campaigns})
                if viewer_org_id is not None else frozenset())
    wallets = available_by_org(c.org_id for c in campaigns)
    bids = []
    for campaign in campaigns:
        telemetry = measured.models.get(campaign.model_slug)
        if campaign.model_slug in excluded or telemetry is None \
                or auction.gate_reasons(telemetry, measured.category):
            continue
        bids.append(auction.Bid(
            campaign_id=campaign.pk, model_slug=campaign.model_slug, pricing=campaign.pricing,
            bid_nanos=campaign.bid_nanos, clicks=campaign.clicks,
            impressions=campaign.impressions,
            quality=auction.quality_score(telemetry, measured.category),
            can_spend_nanos=min(budget_left(campaign, today), wallets.get(campaign.org_id, 0)),
        ))
    awards = auction.run_auction(bids, slots=slots,
                                 reserve_cpm_nanos=settings.SPONSORED_RESERVE_CPM_NANOS)
    if not awards:
        return []
    by_id = {c.pk: c for c in campaigns}
    rows = {row.slug: row for row in catalog.list_model_rows(stamp)}
    viewer = tickets.viewer_key(request)
    out = []
    for award in awards:
        campaign = by_id[award.bid.campaign_id]
        row = rows.get(campaign.model_slug)
        ticket = tickets.SlotTicket(
            campaign_id=campaign.pk, placement=context.placement, page=context.page,
            slot=award.slot, impression_price_nanos=award.impression_price_nanos,
            click_price_nanos=award.click_price_nanos, viewer=viewer,
            viewer_org_id=viewer_org_id)
        out.append(SponsoredSlot(
            campaign_id=campaign.pk, slot=award.slot, advertiser=campaign.org.name,
            model_slug=campaign.model_slug, model_name=row.name if row else campaign.model_slug,
            model_url=f"/models/{campaign.model_slug}",
            blurb=Truncator(row.description if row else "").chars(BLURB_CHARS),
            token=tickets.sign_ticket(ticket)))
    return out


def budget_left(campaign: Campaign, today: dt.date) -> int:
    """What the campaign may still spend today: the least of its total and daily budgets
    left (the day's spend counts only on the UTC day `spent_day` names)."""
    spent_today = campaign.spent_day_nanos if campaign.spent_day == today else 0
    return min(campaign.total_budget_nanos - campaign.spent_nanos,
               campaign.daily_budget_nanos - spent_today)


def _live_campaigns(today: dt.date, competing_with: str | None) -> list[Campaign]:
    """Active campaigns within their dates, of active models, with their vendors (one query;
    an org that is no longer a vendor serves nothing).
    Placements and targeting are JSON lists, matched in Python (SQLite has no JSON contains)."""
    qs = (Campaign.objects.filter(status=CampaignStatus.ACTIVE, starts_on__lte=today,
                                  model__status=Status.ACTIVE, org__kind__in=VENDOR_KINDS)
          .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
          .select_related("org").annotate(model_slug=F("model__slug")).order_by("pk"))
    if competing_with:
        qs = qs.exclude(model__slug=competing_with)
    return list(qs)


def _targets(campaign: Campaign, context: SlotContext) -> bool:
    """Empty targeting matches any page; a non-empty list needs a task (capability) of the
    page's: a campaign aimed at extraction is not shown on a page about nothing in particular."""
    tasks, capabilities = campaign.target_tasks or [], campaign.target_capabilities or []
    return ((not tasks or bool(context.tasks.intersection(tasks)))
            and (not capabilities or bool(context.capabilities.intersection(capabilities))))


def _viewer_org_id(request) -> int | None:
    """The signed-in viewer's current org (None: anonymous, or a user with no org)."""
    if not request.user.is_authenticated:
        return None
    membership = getattr(request, "membership", None) or current_membership(request)
    return membership.org_id if membership is not None else None
