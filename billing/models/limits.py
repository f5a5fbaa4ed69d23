"""Per-key spend limits, enforced in the same atomic admission statement as the wallet.

A limit is an amount per day, week or month (calendar periods in UTC), or in total. `spent_nanos`
is what settled in the current period; `held_nanos` is what open holds on the key reserve. The
period rolls over lazily inside the admission and settlement statements: a row whose
`period_start` is before the current period's start counts as zero spent.
"""

from django.db import models
from django.db.models import Q

from marketplace.tenancy.models import ApiKey, Organization


class LimitPeriod(models.TextChoices):
    DAY = "day", "Per day"
    WEEK = "week", "Per week"
    MONTH = "month", "Per month"
    TOTAL = "total", "In total"


class KeySpendLimit(models.Model):
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="key_limits")
    api_key = models.OneToOneField(ApiKey, on_delete=models.CASCADE, related_name="spend_limit")
    limit_nanos = models.BigIntegerField()
    period = models.CharField(max_length=8, choices=LimitPeriod.choices, default=LimitPeriod.MONTH)
    spent_nanos = models.BigIntegerField(default=0)
    held_nanos = models.BigIntegerField(default=0)
    period_start = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(limit_nanos__gte=0), name="keylimit_limit_nonneg"),
            models.CheckConstraint(condition=Q(held_nanos__gte=0), name="keylimit_held_nonneg"),
        ]

    def __str__(self) -> str:
        period = self.get_period_display().lower()
        return f"{self.limit_nanos} nanos {period} on key {self.api_key_id}"
