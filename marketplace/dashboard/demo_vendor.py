"""The demo's sponsored-listings side (issue 14), for `seed_demo`: a vendor org ("Sandbox Labs")
with its own login, a funded wallet, verified grants for two sandbox models with approved
listing text, and active campaigns (per thousand impressions and per click) in every
placement, so a fresh `make run` shows labelled sponsored slots beside the organic
recommendations and on the catalog pages.

Written directly, like the rest of seed_demo (ARCHITECTURE.md), and idempotent: rows are
found by their natural keys and left as they are (a campaign the vendor paused stays paused,
its spend stays), the credit is granted once (the ledger dedupes on its idempotency key).
With no catalog imported there is nothing to promote: only the org, its user and credit.
"""

from __future__ import annotations

import datetime as dt

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from billing.services.ledger import grant_promotional_credit
from catalog.models import Model
from core.money import usd_to_nanos
from marketplace.listings.models import (
    Campaign,
    EditStatus,
    ListingEdit,
    Placement,
    Pricing,
    VendorGrant,
)
from marketplace.tenancy.models import Membership, Organization, OrgKind, Role

VENDOR_EMAIL = "vendor@switchyard.local"
# A development-only login, printed by `make run` like the developer's.
VENDOR_PASSWORD = "switchyard-vendor-password"
VENDOR_ORG_SLUG = "sandbox-labs"
VENDOR_ORG_NAME = "Sandbox Labs"
VENDOR_CREDIT_NANOS = usd_to_nanos(500)
VENDOR_CREDIT_IDEMPOTENCY_KEY = "seed-demo-vendor-credit"

LLAMA = "meta-llama/llama-3.3-70b-instruct"
GEMINI = "google/gemini-2.5-flash"
# The models Sandbox Labs may promote, with the listing text staff approved.
PROMOTED = {
    LLAMA: "Open weights, five sandbox providers, and a fraction of the price of frontier "
           "models for extraction, classification and summaries.",
    GEMINI: "Fast and cheap for everyday chat, summaries and document questions, with a "
            "million-token context.",
}
ALL_PLACEMENTS = [p.value for p in Placement]
CAMPAIGNS = [
    {"name": "Llama for structured work", "model": LLAMA, "pricing": Pricing.CPM,
     "placements": ALL_PLACEMENTS,
     "target_tasks": ["extraction", "classification", "summarization"],
     "bid_nanos": usd_to_nanos("4.00"), "daily_budget_nanos": usd_to_nanos(5),
     "total_budget_nanos": usd_to_nanos(100)},
    {"name": "Gemini Flash clicks", "model": GEMINI, "pricing": Pricing.CPC,
     "placements": [Placement.CATALOG.value, Placement.RECOMMENDATIONS.value],
     "target_tasks": [], "bid_nanos": usd_to_nanos("0.40"),
     "daily_budget_nanos": usd_to_nanos(10), "total_budget_nanos": usd_to_nanos(200)},
    {"name": "Llama beside the big names", "model": LLAMA, "pricing": Pricing.CPM,
     "placements": [Placement.ALTERNATIVES.value], "target_tasks": [],
     "bid_nanos": usd_to_nanos("2.50"), "daily_budget_nanos": usd_to_nanos(3),
     "total_budget_nanos": usd_to_nanos(50)},
]


def _vendor_user():
    User = get_user_model()
    user = User.objects.filter(email__iexact=VENDOR_EMAIL).first()
    if user is None:
        user = User.objects.create_user(username="demo-vendor", email=VENDOR_EMAIL)
    if not user.check_password(VENDOR_PASSWORD):
        user.set_password(VENDOR_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=VENDOR_EMAIL, defaults={"verified": True, "primary": True})
    return user


def seed_demo_vendor(*, today: dt.date | None = None) -> Organization:
    """Ensure Sandbox Labs, its owner, credit, grants, listings and campaigns (one
    transaction: seed_demo's)."""
    today = today or timezone.now().date()
    user = _vendor_user()
    org, _ = Organization.objects.get_or_create(
        slug=VENDOR_ORG_SLUG, defaults={"name": VENDOR_ORG_NAME, "kind": OrgKind.VENDOR})
    Membership.objects.update_or_create(org=org, user=user, defaults={"role": Role.OWNER})
    grant_promotional_credit(org, VENDOR_CREDIT_NANOS, memo="Demo vendor credit",
                             idempotency_key=VENDOR_CREDIT_IDEMPOTENCY_KEY)
    models = {m.slug: m for m in Model.objects.filter(slug__in=list(PROMOTED))}
    for slug, description in PROMOTED.items():
        if slug not in models:
            continue
        VendorGrant.objects.get_or_create(
            org=org, model=models[slug],
            defaults={"evidence": "Demo data: the sandbox serves this model."})
        ListingEdit.objects.get_or_create(
            org=org, model=models[slug], status=EditStatus.APPROVED,
            defaults={"description": description, "tags": ["demo"],
                      "reviewed_at": timezone.now()})
    for spec in CAMPAIGNS:
        model = models.get(spec["model"])
        if model is None:
            continue
        fields = {k: v for k, v in spec.items() if k not in ("name", "model")}
        Campaign.objects.get_or_create(
            org=org, name=spec["name"],
            defaults={**fields, "model": model, "starts_on": today - dt.timedelta(days=1)})
    return org
