"""`seed_demo`'s sponsored-listings side (issue 14): the vendor Sandbox Labs with its own login,
credit, grants, approved listings and campaigns, the demo user in the developer org only, the
promoted models' recent traffic, and organic recommendations for the demo org; all idempotent."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import UsageRecord
from billing.selectors.spend import get_org_credits
from catalog.importer import import_catalog, load_fixture
from marketplace.dashboard.demo_vendor import GEMINI, LLAMA
from marketplace.listings.models import Campaign, ListingEdit, VendorGrant
from marketplace.tenancy.models import Membership, Organization
from observability.recommendations import recommend

pytestmark = pytest.mark.django_db


def _seed(*args) -> dict:
    out = io.StringIO()
    call_command("seed_demo", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def catalog(settings):
    settings.SANDBOX = True
    import_catalog(load_fixture(), sandbox=True)


def test_the_demo_vendor_is_seeded_once_with_its_campaigns(client, catalog):
    first = _seed()
    vendor = Organization.objects.get(slug="sandbox-labs")
    assert (vendor.name, vendor.kind, vendor.is_vendor) == ("Sandbox Labs", "vendor", True)
    assert first["vendor_org"] == "Sandbox Labs"
    # Its own login; the demo user belongs to the developer org only.
    [owner] = Membership.objects.filter(org=vendor)
    assert (owner.user.email, owner.role) == (first["vendor_email"], "owner")
    demo = Organization.objects.get(slug="demo")
    assert demo.kind == "developer"
    assert list(Membership.objects.filter(user__email=first["email"])
                .values_list("org__slug", flat=True)) == ["demo"]
    assert get_org_credits(vendor.pk)["balance_nanos"] == 500_000_000_000
    grants = set(VendorGrant.objects.filter(org=vendor).values_list("model__slug", flat=True))
    assert grants == {LLAMA, GEMINI}
    assert set(ListingEdit.objects.filter(org=vendor, status="approved")
               .values_list("model__slug", flat=True)) == grants
    campaigns = Campaign.objects.filter(org=vendor, status="active")
    assert {c.pricing for c in campaigns} == {"cpm", "cpc"}
    assert {p for c in campaigns for p in c.placements} == {
        "catalog", "alternatives", "recommendations"}
    assert all(c.model.slug in grants and c.starts_on <= timezone.now().date()
               and 0 < c.daily_budget_nanos <= c.total_budget_nanos for c in campaigns)

    # A paused campaign and its spend survive a rerun; nothing is created twice.
    Campaign.objects.filter(pk=campaigns[0].pk).update(status="paused", spent_nanos=123)
    second = _seed()
    assert second["vendor_email"] == first["vendor_email"]
    assert Organization.objects.count() == 2
    assert Campaign.objects.filter(org=vendor).count() == 3
    assert VendorGrant.objects.filter(org=vendor).count() == 2
    assert ListingEdit.objects.filter(org=vendor).count() == 2
    paused = Campaign.objects.get(pk=campaigns[0].pk)
    assert (paused.status, paused.spent_nanos) == ("paused", 123)
    assert get_org_credits(vendor.pk)["balance_nanos"] == 500_000_000_000

    login = client.post("/accounts/login/", {"login": first["vendor_email"],
                                             "password": first["vendor_password"]})
    assert login.status_code == 302


def test_demo_usage_gives_recent_health_traffic_and_organic_recommendations(catalog):
    _seed("--usage", "2000", "--usage-if-empty")
    demo = Organization.objects.get(slug="demo")
    now = timezone.now()
    recent = UsageRecord.objects.filter(org=demo, created_at__gte=now - timezone.timedelta(
        hours=12), served_model__in=[LLAMA, GEMINI], finish_reason="stop")
    count = recent.count()
    assert count >= 6 * 24  # every sandbox endpoint of the two promoted models
    # Within the window a rerun adds no more recent traffic (and no more history).
    total = UsageRecord.objects.filter(org=demo).count()
    again = _seed("--usage", "2000", "--usage-if-empty")
    assert "usage_added" not in again and "recent_usage_added" not in again
    assert UsageRecord.objects.filter(org=demo).count() == total

    found = recommend(demo)
    assert found.recommendations, "the demo should show organic recommendations"
    assert "extraction" in found.top_tasks
    best = found.recommendations[0]
    assert best.cheaper and best.quality.at_least(best.current_quality)
    assert best.usage.spend_nanos > best.quote.cost_nanos
