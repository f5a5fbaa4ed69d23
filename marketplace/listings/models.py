"""Vendors' sponsored listings (issue 14): what staff verified a vendor may promote, the
listing text vendors propose, campaigns, and the impressions and clicks they bought.

Routing never reads any of it (ARCHITECTURE.md, "Routing neutrality"): sponsorship changes
what a page shows, never where a request goes.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from catalog.models import Model, Provider
from marketplace.tenancy.models import Organization


class VendorGrant(models.Model):
    """Staff verified that the vendor owns a provider (so may promote what it serves) or a
    model. Written only by staff, with an audit entry in the vendor's log."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="vendor_grants")
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    model = models.ForeignKey(Model, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+")
    evidence = models.CharField(max_length=300, blank=True,
                                help_text="How ownership was verified.")
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(provider__isnull=True, model__isnull=False)
                | Q(provider__isnull=False, model__isnull=True),
                name="vendor_grant_provider_xor_model",
            ),
            models.UniqueConstraint(fields=["org", "provider"], name="vendor_grant_provider",
                                    condition=Q(provider__isnull=False)),
            models.UniqueConstraint(fields=["org", "model"], name="vendor_grant_model",
                                    condition=Q(model__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"org {self.org_id}: {self.provider_id or self.model_id}"


class EditStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ListingEdit(models.Model):
    """A vendor's proposed description and tags for one of its models; shown once staff
    approve it."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="listing_edits")
    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="+")
    description = models.TextField(max_length=4000)
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=EditStatus.choices,
                              default=EditStatus.PENDING)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    review_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="listing_edit_status")]

    def __str__(self) -> str:
        return f"edit of {self.model_id} by org {self.org_id} ({self.status})"


class Placement(models.TextChoices):
    CATALOG = "catalog", "Top of a catalog category or search"
    ALTERNATIVES = "alternatives", "Alternatives box on a competing model's page"
    RECOMMENDATIONS = "recommendations", "Dashboard recommendation card"


class Pricing(models.TextChoices):
    CPM = "cpm", "Per thousand impressions"
    CPC = "cpc", "Per click"


class CampaignStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused by the vendor"
    STAFF_PAUSED = "staff_paused", "Paused by staff"


class Campaign(models.Model):
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="campaigns")
    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    placements = models.JSONField(default=list)  # Placement values
    target_tasks = models.JSONField(default=list, blank=True)  # task labels; empty: any
    target_capabilities = models.JSONField(default=list, blank=True)  # empty: any
    pricing = models.CharField(max_length=3, choices=Pricing.choices)
    bid_nanos = models.BigIntegerField()  # per thousand impressions (cpm) or per click (cpc)
    daily_budget_nanos = models.BigIntegerField()
    total_budget_nanos = models.BigIntegerField()
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)  # inclusive; null: until the budget ends
    status = models.CharField(max_length=12, choices=CampaignStatus.choices,
                              default=CampaignStatus.ACTIVE)
    # Spend reserved by billable events, moved by one conditional UPDATE per event so that
    # concurrent events from many processes can never pass either budget (see services).
    spent_nanos = models.BigIntegerField(default=0)
    spent_day = models.DateField(null=True, blank=True)  # the UTC day spent_day_nanos counts
    spent_day_nanos = models.BigIntegerField(default=0)
    # Billable counts, for the expected click rate that ranks per-click bids.
    impressions = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(bid_nanos__gt=0), name="campaign_bid_positive"),
            models.CheckConstraint(condition=Q(daily_budget_nanos__gt=0),
                                   name="campaign_daily_budget_positive"),
            models.CheckConstraint(condition=Q(total_budget_nanos__gt=0),
                                   name="campaign_total_budget_positive"),
            models.CheckConstraint(condition=Q(spent_nanos__lte=F("total_budget_nanos")),
                                   name="campaign_spend_within_total"),
            models.CheckConstraint(condition=Q(spent_day_nanos__lte=F("daily_budget_nanos")),
                                   name="campaign_spend_within_daily"),
        ]
        indexes = [models.Index(fields=["status", "model"], name="campaign_status_model")]

    def __str__(self) -> str:
        return self.name


class EventKind(models.TextChoices):
    IMPRESSION = "impression", "Impression"
    CLICK = "click", "Click"


class AdEvent(models.Model):
    """One counted impression or click of a sponsored slot (after deduplication)."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")  # vendor
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    placement = models.CharField(max_length=16, choices=Placement.choices)
    page = models.CharField(max_length=200)
    slot = models.PositiveSmallIntegerField()
    # A keyed hash of who saw it (user, else the browser's session), never the id itself.
    viewer = models.CharField(max_length=64)
    # The signed-in viewer's org, for conversions; reports show counts only, never which org.
    viewer_org = models.ForeignKey(Organization, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # Unique per viewer, page, slot and window (impressions) or per viewer and campaign and
    # window (clicks): the second beacon for the same view counts nothing.
    dedupe_key = models.CharField(max_length=64, unique=True)
    price_nanos = models.BigIntegerField(default=0)  # charged; 0 when not billable
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["campaign", "created_at"], name="ad_event_campaign_time"),
            models.Index(fields=["viewer_org", "campaign"], name="ad_event_viewer_org",
                         condition=Q(kind="click")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of campaign {self.campaign_id}"
