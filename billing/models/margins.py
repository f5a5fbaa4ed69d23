"""Margin rules: basis points over upstream cost, by org contract, model, provider.

Precedence (most specific wins): an org's contract beats any platform-wide rule; within each,
model + provider > model > provider > the org-wide (or platform) figure. The platform default
lives in settings (`MARGIN_DEFAULT_BPS`); see billing/pricing.py for the lookup.
"""

from django.db import models
from django.db.models import Q

from marketplace.tenancy.models import Organization


class MarginRule(models.Model):
    # Null org: a platform-wide rule. Blank model/provider slug: applies to every model/provider.
    org = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="margin_rules"
    )
    model_slug = models.CharField(max_length=200, blank=True)
    provider_slug = models.CharField(max_length=100, blank=True)
    bps = models.IntegerField()
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
            # A platform-wide rule with neither slug would shadow MARGIN_DEFAULT_BPS: say so there.
            models.CheckConstraint(
                condition=~Q(org__isnull=True, model_slug="", provider_slug=""),
                name="margin_rule_not_platform_default",
            ),
        ]

    def __str__(self) -> str:
        scope = "/".join(
            part for part in (self.model_slug, self.provider_slug) if part
        ) or "all models"
        return f"{self.bps} bps on {scope}" + (f" for org {self.org_id}" if self.org_id else "")
