"""Stripe-side records: the org's Stripe customer, each top-up the app created, auto top-up.

A wallet is credited only for a PaymentIntent found here (the app created it), only from the
verified `payment_intent.succeeded` webhook, and once per PaymentIntent (the ledger
transaction's idempotency key is the PaymentIntent id). Amounts at this boundary are cents;
the ledger gets nanos.

A top-up's row is written before Stripe is asked for the PaymentIntent (the intent's metadata
names the row), so a payment Stripe confirms at once, with a saved card, always has a row to
credit however early its webhook arrives. Refunds and disputes together never take back more
than the payment credited: `reversed_cents` is what the ledger has taken back so far.
"""

from django.conf import settings
from django.db import models

from marketplace.tenancy.models import Organization


class StripeCustomer(models.Model):
    org = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="+")
    customer_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.customer_id


class TopUpStatus(models.TextChoices):
    PENDING = "pending", "Awaiting payment"
    SUCCEEDED = "succeeded", "Credited"
    FAILED = "failed", "Failed"


class TopUp(models.Model):
    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="top_ups")
    # Empty (null) only between writing the row and Stripe answering with the intent.
    payment_intent_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # Stripe's idempotency key for creating the intent, chosen with the row: asking again for
    # the same row can never create (and charge) a second intent.
    idempotency_key = models.CharField(max_length=64, blank=True)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(
        max_length=10, choices=TopUpStatus.choices, default=TopUpStatus.PENDING
    )
    automatic = models.BooleanField(default=False)  # an auto top-up (off-session)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    credited_at = models.DateTimeField(null=True, blank=True)
    charge_id = models.CharField(max_length=64, blank=True)
    # Stripe's own figures, in cents: the charge's cumulative refunds, and the disputes still
    # standing against it (open or lost; a won dispute no longer counts).
    refunded_cents = models.PositiveIntegerField(default=0)
    disputed_cents = models.PositiveIntegerField(default=0)
    # What the ledger has taken back: min(amount, refunded + disputed), moved as events arrive.
    reversed_cents = models.PositiveIntegerField(default=0)
    failure_message = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org", "created_at"], name="topup_org_created")]

    def __str__(self) -> str:
        return self.payment_intent_id or f"top-up {self.pk}"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"  # or an inquiry closed without a chargeback: the money stays ours
    LOST = "lost", "Lost"


class TopUpDispute(models.Model):
    """A Stripe dispute on a top-up's charge, as its events have described it so far.

    Written by whichever of its events arrives first (created, or closed when that overtakes
    it), so a dispute is counted once, and a won one is never taken back by a late `created`.
    """

    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    top_up = models.ForeignKey(TopUp, on_delete=models.PROTECT, related_name="disputes")
    dispute_id = models.CharField(max_length=64, unique=True)
    amount_cents = models.PositiveIntegerField()
    status = models.CharField(
        max_length=8, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.dispute_id


class AutoTopUp(models.Model):
    """Charge the saved card when available balance falls below the threshold.

    `armed` makes it once per crossing: firing disarms it (a conditional UPDATE, so two
    workers cannot both fire); it re-arms only once available balance is back at or above the
    threshold.
    """

    org = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(default=False)
    threshold_nanos = models.BigIntegerField(default=0)
    amount_cents = models.PositiveIntegerField(default=0)
    payment_method_id = models.CharField(max_length=64, blank=True)
    card_label = models.CharField(max_length=60, blank=True)  # "visa ending 4242"
    armed = models.BooleanField(default=True)
    last_failure_message = models.CharField(max_length=300, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"auto top-up for org {self.org_id}"
