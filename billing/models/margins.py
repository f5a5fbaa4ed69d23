"""Margin rules: basis points over upstream cost, by org contract, model, provider.

Precedence (most specific wins): an org's contract beats any platform-wide rule; within each,
model + provider > model > provider > the org-wide (or platform) figure. The platform default
is the platform-wide rule with neither slug (seeded from `MARGIN_DEFAULT_BPS` by migration 0011,
edited by staff in the admin like the others); see billing/pricing.py for the lookup.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from marketplace.tenancy.models import Organization

MAX_BPS = 10_000


class MarginRule(models.Model):
    # Null org: a platform-wide rule. Blank model/provider slug: applies to every model/provider.
    org = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="margin_rules"
    )
    model_slug = models.CharField(max_length=200, blank=True)
    provider_slug = models.CharField(max_length=100, blank=True)
    # Basis points of the upstream cost: 0 to 10,000 (a margin of at most 100%).
    bps = models.IntegerField(validators=[MinValueValidator(0), MaxValueValidator(MAX_BPS)])
    note = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(bps__gte=0), name="margin_bps_nonneg"),
            # Two partial indexes, because NULL orgs never collide in a plain unique index.
            models.UniqueConstraint(
                fields=["org", "model_slug", "provider_slug"],
                condition=Q(org__isnull=False),
                name="margin_rule_unique_org_scope",
            ),
            models.UniqueConstraint(
                fields=["model_slug", "provider_slug"],
                condition=Q(org__isnull=True),
                name="margin_rule_unique_platform_scope",
            ),
            models.CheckConstraint(condition=Q(bps__lte=MAX_BPS), name="margin_bps_at_most_100pct"),
        ]

    def __str__(self) -> str:
        if self.is_platform_default:
            return f"{self.bps} bps platform default"
        scope = "/".join(
            part for part in (self.model_slug, self.provider_slug) if part
        ) or "all models"
        return f"{self.bps} bps on {scope}" + (f" for org {self.org_id}" if self.org_id else "")

    @property
    def is_platform_default(self) -> bool:
        return self.org_id is None and not self.model_slug and not self.provider_slug
