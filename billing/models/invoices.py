"""Invoices: one per org per monthly billing period, rolled up from posted usage.

An invoice is open while its period runs; usage records are rolled into it exactly once (an
`InvoicedUsage` row per usage record, unique, written in the same transaction as the line
increments). At period end it is finalized: numbered gaplessly per issuer from a counter row
locked FOR UPDATE, its billing details frozen, and immutable from then on (the services refuse
changes; on PostgreSQL triggers refuse them too, migration 0006).
"""

from django.db import models
from django.db.models import Q

from marketplace.tenancy.models import Organization

from .usage import UsageRecord


class InvoiceStatus(models.TextChoices):
    OPEN = "open", "Open"
    FINALIZED = "finalized", "Finalized"


class InvoiceCounter(models.Model):
    """The last number issued by one issuer; locked FOR UPDATE to number without gaps."""

    issuer = models.CharField(max_length=32, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.issuer}: {self.last_number}"


class Invoice(models.Model):
    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="invoices")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()  # exclusive
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN
    )
    issuer = models.CharField(max_length=32)
    number = models.PositiveIntegerField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Totals, exact nanos; kept equal to the sum of the lines (usage) and the ledger (others).
    requests = models.BigIntegerField(default=0)
    upstream_cost_nanos = models.BigIntegerField(default=0)
    margin_nanos = models.BigIntegerField(default=0)
    byok_fee_nanos = models.BigIntegerField(default=0)
    write_off_nanos = models.BigIntegerField(default=0)
    charge_nanos = models.BigIntegerField(default=0)
    top_ups_nanos = models.BigIntegerField(default=0)
    credits_nanos = models.BigIntegerField(default=0)
    reversals_nanos = models.BigIntegerField(default=0)  # refunds and disputes, negative
    # A vendor's sponsored-listing spend in the period (impressions and clicks), positive.
    sponsored_nanos = models.BigIntegerField(default=0)
    # Billing details as they were at finalization (the org may change them later).
    legal_name = models.CharField(max_length=200, blank=True)
    billing_address = models.TextField(blank=True)
    tax_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "period_start"], name="invoice_org_period"),
            models.UniqueConstraint(
                fields=["issuer", "number"],
                condition=Q(number__isnull=False),
                name="invoice_number_per_issuer",
            ),
        ]
        indexes = [models.Index(fields=["status", "period_end"], name="invoice_status_end")]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        if self.number is None:
            return f"DRAFT-{self.pk}"
        return f"{self.issuer}-{self.period_start:%Y}-{self.number:06d}"


class LineKind(models.TextChoices):
    USAGE = "usage", "Usage"
    BYOK_FEE = "byok_fee", "BYOK fee"
    TOP_UP = "top_up", "Top-up"
    CREDIT = "credit", "Promotional credit"
    REVERSAL = "reversal", "Refund or dispute"
    SPONSORED = "sponsored", "Sponsored listings"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=LineKind.choices)
    model = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=300, blank=True)
    requests = models.BigIntegerField(default=0)
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    upstream_cost_nanos = models.BigIntegerField(default=0)
    margin_nanos = models.BigIntegerField(default=0)
    byok_fee_nanos = models.BigIntegerField(default=0)
    write_off_nanos = models.BigIntegerField(default=0)
    # What the line moves in the wallet: charges positive here (drawn), top-ups/credits too.
    amount_nanos = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "kind", "model", "provider"], name="invoice_line_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.model} {self.provider}"


class InvoicedUsage(models.Model):
    """Marks one usage record as rolled into one invoice: the exactly-once guard."""

    usage_record = models.OneToOneField(
        UsageRecord, on_delete=models.PROTECT, related_name="invoiced"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"{self.usage_record_id} -> {self.invoice_id}"
