"""Counting a sponsored impression or click once, and paying for it, in one transaction.

A beacon (`beacon.py`) brings back the slot's signed ticket. `record_event` counts it only if
the browser sending it is the one the slot was served to and is not a known crawler; then, in
ONE database transaction:

1. the `AdEvent` is inserted under its dedupe key (per viewer, campaign, page and slot, and an
   impression window or a UTC day for clicks): a second beacon for the same view hits the
   unique constraint and counts nothing;
2. the campaign's budget is reserved by one conditional UPDATE (active, within its dates, and
   the price still fits both the total and today's budget). PostgreSQL re-checks the WHERE
   once it holds the row lock, so concurrent events from any number of processes can never
   spend past either budget: the one that does not fit updates no row and its event is rolled
   back (not billable: the campaign is out of budget, and serving must stop showing it);
3. billing charges the vendor's wallet (`billing.services.sponsored.charge_sponsored`, a
   conditional UPDATE that refuses to overdraw); a wallet that cannot pay rolls back all three.

A click of a per-thousand campaign and an impression of a per-click one cost nothing but are
still counted (the expected click rate that ranks per-click bids needs both).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from billing.services.sponsored import charge_sponsored
from core.errors import InsufficientCredits
from marketplace.listings.crawlers import is_crawler
from marketplace.listings.models import AdEvent, Campaign, CampaignStatus, EventKind
from marketplace.listings.tickets import SlotTicket

logger = logging.getLogger(__name__)

# One viewer's impressions of one slot on one page count once in this many seconds.
SPONSORED_IMPRESSION_WINDOW_S = 1800


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a beacon did. `counted`: an event was recorded; `billed_nanos`: what it charged.
    `reason` says why: billed, free (counted at price 0), duplicate, viewer (another browser's
    ticket), crawler, gone (no such campaign), budget (inactive, out of dates or budget),
    wallet (the vendor's wallet cannot pay)."""

    counted: bool
    billed_nanos: int
    reason: str


class _NotBillable(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def dedupe_key(ticket: SlotTicket, kind: str, now: datetime) -> str:
    """The event's identity: the same view (or click) of the same slot has one key."""
    if kind == EventKind.IMPRESSION:
        bucket = f"w{int(now.timestamp()) // SPONSORED_IMPRESSION_WINDOW_S}"
    else:
        bucket = f"d{now.astimezone(UTC).date().isoformat()}"
    raw = "\x1f".join((kind, str(ticket.campaign_id), ticket.viewer, ticket.page,
                       str(ticket.slot), bucket))
    return hashlib.sha256(raw.encode()).hexdigest()


def record_event(ticket: SlotTicket, kind: str, *, viewer: str, user_agent: str | None,
                 now: datetime | None = None) -> Outcome:
    """Count one impression or click of a served slot once, and charge for it (see above)."""
    if kind not in EventKind.values:
        raise ValueError(f"unknown sponsored event: {kind!r}")
    if viewer != ticket.viewer:
        return Outcome(False, 0, "viewer")
    if is_crawler(user_agent):
        return Outcome(False, 0, "crawler")
    now = now or timezone.now()
    campaign = (Campaign.objects.select_related("model").only(
        "id", "org_id", "name", "pricing", "model__slug").filter(pk=ticket.campaign_id).first())
    if campaign is None:
        return Outcome(False, 0, "gone")
    price = (ticket.impression_price_nanos if kind == EventKind.IMPRESSION
             else ticket.click_price_nanos)
    if price < 0:
        raise ValueError("a ticket's price cannot be negative")
    key = dedupe_key(ticket, kind, now)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    AdEvent.objects.create(
                        org_id=campaign.org_id, campaign_id=campaign.pk, kind=kind,
                        placement=ticket.placement, page=ticket.page[:200], slot=ticket.slot,
                        viewer=ticket.viewer, viewer_org_id=ticket.viewer_org_id,
                        dedupe_key=key, price_nanos=price, created_at=now,
                    )
            except IntegrityError as exc:
                if AdEvent.objects.filter(dedupe_key=key).exists():
                    raise _NotBillable("duplicate") from exc
                raise
            if not _reserve_budget(campaign.pk, kind, price, now):
                raise _NotBillable("budget")
            if price and not charge_sponsored(
                org_id=campaign.org_id, amount_nanos=price, idempotency_key=key, event=kind,
                campaign_ref=str(campaign.pk),
                description=f"{campaign.name} ({campaign.get_pricing_display().lower()})",
                model=campaign.model.slug, placement=ticket.placement, now=now,
            ):
                # Its charge exists while its event did not: never charge it twice.
                raise _NotBillable("duplicate")
    except _NotBillable as stop:
        return Outcome(False, 0, stop.reason)
    except InsufficientCredits:
        logger.info("sponsored %s of campaign %s not billed: the wallet cannot pay",
                    kind, campaign.pk)
        return Outcome(False, 0, "wallet")
    return Outcome(True, price, "billed" if price else "free")


def _reserve_budget(campaign_id: int, kind: str, price: int, now: datetime) -> bool:
    """Add `price` to the campaign's spend and count the event, in one conditional UPDATE:
    only an active campaign within its dates whose total and today's budgets both still fit
    the price. False when no row qualified."""
    today = now.astimezone(UTC).date()
    counter = "impressions" if kind == EventKind.IMPRESSION else "clicks"
    return Campaign.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today),
        Q(spent_day=today, spent_day_nanos__lte=F("daily_budget_nanos") - price)
        | (~Q(spent_day=today) & Q(daily_budget_nanos__gte=price)),
        pk=campaign_id,
        status=CampaignStatus.ACTIVE,
        starts_on__lte=today,
        spent_nanos__lte=F("total_budget_nanos") - price,
    ).update(
        spent_nanos=F("spent_nanos") + price,
        # A new UTC day starts today's spend from nothing.
        spent_day_nanos=Case(When(spent_day=today, then=F("spent_day_nanos") + price),
                             default=Value(price)),
        spent_day=today,
        **{counter: F(counter) + 1},
    ) == 1
