"""Stripe-side records: the org's Stripe customer, each top-up the app created, auto top-up.

A wallet is credited only for a PaymentIntent found here (the app created it), only from the
verified `payment_intent.succeeded` webhook, and once per PaymentIntent (the ledger
transaction's idempotency key is the PaymentIntent id). Amounts at this boundary are cents;
the ledger gets nanos.
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
    payment_intent_id = models.CharField(max_length=64, unique=True)
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
    # Cumulative amounts reversed by refunds and open disputes, in cents (Stripe's own figures).
    refunded_cents = models.PositiveIntegerField(default=0)
    disputed_cents = models.PositiveIntegerField(default=0)
    failure_message = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org", "created_at"], name="topup_org_created")]

    def __str__(self) -> str:
        return self.payment_intent_id


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
