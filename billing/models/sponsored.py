"""A vendor's charge for one billable sponsored impression or click (issue 14).

Billing knows nothing of campaigns: the listings app reserves the campaign's budget and, in the
same database transaction, asks billing to charge the vendor's wallet. The charge moves the
wallet's cached balance at once (a conditional UPDATE that refuses to overdraw, as the gateway's
holds do) and is posted to the ledger later in batches (wallet to sponsored-listing revenue), as
usage records are. So the wallet invariant reads:
    balance == sum(wallet ledger entries) - unposted usage charges - unposted sponsored charges
"""

from django.db import models
from django.db.models import Q

from marketplace.tenancy.models import Organization


class SponsoredCharge(models.Model):
    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    # The billable event's own key (one impression of one viewer, page and slot in its window,
    # or one click): charging it twice charges once.
    idempotency_key = models.CharField(max_length=200)
    amount_nanos = models.BigIntegerField()
    event = models.CharField(max_length=10)  # impression or click
    campaign_ref = models.CharField(max_length=40)  # the listings app's campaign id, as text
    description = models.CharField(max_length=200)  # what the invoice line says
    model = models.CharField(max_length=200)
    placement = models.CharField(max_length=20)
    created_at = models.DateTimeField()
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "idempotency_key"], name="sponsored_charge_idempotency"
            ),
            models.CheckConstraint(condition=Q(amount_nanos__gt=0),
                                   name="sponsored_charge_positive"),
        ]
        indexes = [
            models.Index(fields=["posted_at", "id"], name="sponsored_charge_unposted",
                         condition=Q(posted_at__isnull=True)),
            models.Index(fields=["org", "created_at"], name="sponsored_charge_org_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.campaign_ref} {self.amount_nanos}"
