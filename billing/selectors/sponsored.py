"""A vendor's sponsored-listing spend in a period, grouped as its invoice lines show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Q, Sum

from billing.models import SponsoredCharge


@dataclass(frozen=True, slots=True)
class SponsoredSpend:
    """One invoice line's worth: one model's one campaign."""

    model: str
    campaign_ref: str
    description: str  # the campaign's latest description (a renamed campaign keeps one line)
    impressions: int
    clicks: int
    amount_nanos: int

    @property
    def line_description(self) -> str:
        parts = [f"{self.impressions} billed impression{'s' * (self.impressions != 1)}"]
        if self.clicks:
            parts.append(f"{self.clicks} billed click{'s' * (self.clicks != 1)}")
        return f"{self.description} ({', '.join(parts)})"[:300]


def sponsored_spend(org_id: int, start: datetime, end: datetime) -> list[SponsoredSpend]:
    """The org's sponsored charges made in [start, end), per model and campaign, by model.

    Posted or not: each already moved the wallet, and its ledger transaction (posted within a
    minute, or by the finalize task first) carries the charge's own time, so once posted the
    period's sponsored ledger transactions sum to the same.
    """
    charges = SponsoredCharge.objects.filter(org_id=org_id, created_at__gte=start,
                                             created_at__lt=end)
    groups = list(
        charges.values("model", "campaign_ref")
        .annotate(impressions=Count("id", filter=Q(event="impression")),
                  clicks=Count("id", filter=~Q(event="impression")),
                  amount=Sum("amount_nanos"), last_id=Max("id"))
        .order_by("model", "campaign_ref")
    )
    names = dict(SponsoredCharge.objects.filter(pk__in=[g["last_id"] for g in groups])
                 .values_list("id", "description"))
    return [
        SponsoredSpend(model=g["model"], campaign_ref=g["campaign_ref"],
                       description=names.get(g["last_id"], ""), impressions=g["impressions"],
                       clicks=g["clicks"], amount_nanos=g["amount"] or 0)
        for g in groups
    ]
