"""Vendors with funded wallets, campaigns and the tickets their slots carry, for the charging,
beacon, ledger and invoice tests (helper "money"'s; `factories.py` is the vendor pages')."""

from __future__ import annotations

import itertools
from datetime import date

from billing.services.ledger import ensure_wallet, grant_promotional_credit
from catalog.models import Model
from marketplace.listings.models import Campaign, CampaignStatus, Placement, Pricing
from marketplace.listings.tickets import SlotTicket, sign_ticket
from marketplace.tenancy.models import Organization, OrgKind

USD = 1_000_000_000  # nanos
_seq = itertools.count(1)


def vendor(*, balance_nanos: int = 100 * USD, credit_limit_nanos: int = 0,
           name: str | None = None) -> Organization:
    """A vendor org whose wallet holds `balance_nanos` (promotional credit, through billing)."""
    n = next(_seq)
    org = Organization.objects.create(name=name or f"Vendor {n}", slug=f"money-vendor-{n}",
                                      kind=OrgKind.VENDOR)
    wallet = ensure_wallet(org)
    if credit_limit_nanos:
        wallet.credit_limit_nanos = credit_limit_nanos
        wallet.save(update_fields=["credit_limit_nanos"])
    if balance_nanos:
        grant_promotional_credit(org, balance_nanos, memo="test funds",
                                 idempotency_key=f"funds-{n}")
    return org


def catalog_model(slug: str | None = None) -> Model:
    n = next(_seq)
    slug = slug or f"acme/model-{n}"
    return Model.objects.create(slug=slug, author=slug.split("/")[0], name=f"Model {n}")


def campaign(org: Organization, *, model: Model | None = None, pricing: str = Pricing.CPM,
             bid_nanos: int = 2 * USD, daily_budget_nanos: int = 10 * USD,
             total_budget_nanos: int = 50 * USD, starts_on: date | None = None,
             ends_on: date | None = None, status: str = CampaignStatus.ACTIVE,
             name: str | None = None) -> Campaign:
    return Campaign.objects.create(
        org=org, model=model or catalog_model(), name=name or f"Campaign {next(_seq)}",
        placements=[Placement.CATALOG], pricing=pricing, bid_nanos=bid_nanos,
        daily_budget_nanos=daily_budget_nanos, total_budget_nanos=total_budget_nanos,
        starts_on=starts_on or date(2020, 1, 1), ends_on=ends_on, status=status,
    )


def ticket(c: Campaign, *, viewer: str = "viewer-a", page: str = "/models?q=x", slot: int = 1,
           impression_price_nanos: int | None = None, click_price_nanos: int | None = None,
           viewer_org_id: int | None = None) -> SlotTicket:
    """The ticket serving would sign: per-impression price bid/1000 (cpm) or the click bid."""
    if impression_price_nanos is None:
        impression_price_nanos = c.bid_nanos // 1000 if c.pricing == Pricing.CPM else 0
    if click_price_nanos is None:
        click_price_nanos = c.bid_nanos if c.pricing == Pricing.CPC else 0
    return SlotTicket(
        campaign_id=c.pk, placement=Placement.CATALOG, page=page, slot=slot,
        impression_price_nanos=impression_price_nanos, click_price_nanos=click_price_nanos,
        viewer=viewer, viewer_org_id=viewer_org_id,
    )


def token(t: SlotTicket) -> str:
    return sign_ticket(t)
