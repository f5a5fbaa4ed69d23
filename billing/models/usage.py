"""Wallets, admission holds and usage records: the rows the gateway's hot path touches.

All amounts are integer nano-USD (`*_nanos`). The ledger (double-entry) lives beside these;
a wallet's cached `balance_nanos` moves only in the same transaction as its ledger entries or
its settled usage (see billing/ledger for the check that ties them together).
"""

from django.db import models
from django.db.models import Q

from marketplace.tenancy.models import ApiKey, Organization


class Wallet(models.Model):
    org = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="wallet")
    currency = models.CharField(max_length=3, default="USD")
    balance_nanos = models.BigIntegerField(default=0)
    # Sum of open holds; available = balance - held. Never below -credit_limit.
    held_nanos = models.BigIntegerField(default=0)
    credit_limit_nanos = models.BigIntegerField(default=0)
    # Below this available balance the overview warns (and the observability alerts fire).
    low_balance_threshold_nanos = models.BigIntegerField(default=500_000_000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(held_nanos__gte=0), name="wallet_held_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(credit_limit_nanos__gte=0), name="wallet_credit_limit_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(low_balance_threshold_nanos__gte=0),
                name="wallet_low_balance_threshold_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"wallet of org {self.org_id}"

    @property
    def available_nanos(self) -> int:
        return self.balance_nanos - self.held_nanos


class HoldStatus(models.TextChoices):
    OPEN = "open", "Open"
    SETTLED = "settled", "Settled"
    RELEASED = "released", "Released"
    SWEPT = "swept", "Settled by the stale-hold sweep"


class Hold(models.Model):
    """An admission hold: the worst-case cost of one request, reserved before the upstream call.

    It records what a worker needs to settle the request if the gateway dies mid-flight.
    """

    # Unique through Meta's constraint, not `unique=True`: on PostgreSQL that would add a second
    # (pattern-matching) index, and every hold pays each index on insert and on settlement.
    # The org and key are indexed only among open holds (Meta), and carry no database foreign
    # key: ARCHITECTURE.md, "Money", says why; Django's on_delete still applies.
    request_id = models.CharField(max_length=64)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="holds",
                            db_index=False, db_constraint=False)
    api_key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, related_name="+",
                                db_index=False, db_constraint=False)
    amount_nanos = models.BigIntegerField()
    endpoint_id = models.BigIntegerField(null=True)
    price_id = models.BigIntegerField(null=True)
    model_slug = models.CharField(max_length=200, blank=True)
    prompt_upper_bytes = models.IntegerField(default=0)
    output_allowance_tokens = models.IntegerField(default=0)
    is_byok = models.BooleanField(default=False)
    # What this hold reserves against the key's spend limit (0: the key had no limit then), so
    # settlement releases exactly that much there.
    key_held_nanos = models.BigIntegerField(default=0)
    provider_slug = models.CharField(max_length=100, blank=True)
    # The input price the gateway admitted at, for the sweep if the catalog row is gone.
    input_nanos_per_m = models.BigIntegerField(null=True)
    status = models.CharField(max_length=10, choices=HoldStatus.choices, default=HoldStatus.OPEN)
    created_at = models.DateTimeField()
    deadline_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Only open holds are indexed, by org (a wallet's reconciliation) and deadline (the
        # sweep's question, over all orgs: the index holds only requests in flight, so reading
        # it whole is cheap). A settled or released hold leaves it rather than being inserted
        # into it again.
        indexes = [models.Index(fields=["org", "deadline_at"], name="hold_open",
                                condition=Q(status="open"))]
        constraints = [
            models.CheckConstraint(condition=Q(amount_nanos__gte=0), name="hold_amount_nonneg"),
            models.UniqueConstraint(fields=["request_id"], name="hold_request_id_unique"),
        ]

    def __str__(self) -> str:
        return f"hold {self.request_id} ({self.status})"


class UsageRecord(models.Model):
    """One metered request: what was asked, what served it, what it cost, what was charged."""

    # Unique through Meta's constraint (see Hold.request_id), and the org is indexed by
    # usage_org_created alone: one request inserts a row here, so each index costs every request.
    # No database foreign keys to the org and key, as on Hold.
    request_id = models.CharField(max_length=64)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="usage_records",
                            db_index=False, db_constraint=False)
    api_key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, related_name="+",
                                db_constraint=False)
    created_at = models.DateTimeField(db_index=True)
    requested_model = models.CharField(max_length=200)
    served_model = models.CharField(max_length=200, blank=True)
    endpoint_id = models.BigIntegerField(null=True)
    provider_slug = models.CharField(max_length=100, blank=True)
    price_id = models.BigIntegerField(null=True)
    # [{"endpoint_id", "provider", "status", "latency_ms"}]
    attempts = models.JSONField(default=list)
    prompt_tokens = models.IntegerField(default=0)
    completion_tokens = models.IntegerField(default=0)
    cache_read_tokens = models.IntegerField(default=0)
    cache_write_tokens = models.IntegerField(default=0)
    reasoning_tokens = models.IntegerField(default=0)
    upstream_cost_nanos = models.BigIntegerField(default=0)
    margin_nanos = models.BigIntegerField(default=0)
    byok_fee_nanos = models.BigIntegerField(default=0)
    charge_nanos = models.BigIntegerField(default=0)
    # Upstream cost we owe but did not charge (zero-output errors, overshoot beyond the hold).
    write_off_nanos = models.BigIntegerField(default=0)
    latency_ms = models.IntegerField(default=0)
    ttft_ms = models.IntegerField(null=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    streamed = models.BooleanField(default=False)
    cancelled = models.BooleanField(default=False)
    is_byok = models.BooleanField(default=False)
    # Metered from counted tokens (stream ended without usage, or swept after a gateway death).
    estimated = models.BooleanField(default=False)
    app_referer = models.CharField(max_length=300, blank=True)
    app_title = models.CharField(max_length=200, blank=True)
    # The compliance posture it was served under, as a signed receipt states it: the org
    # policy's version (None: no policy), the served endpoint's region, whether zero data
    # retention was in force, and the SHA-256 (hex) of the request body as received.
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    region = models.CharField(max_length=32, blank=True)
    zdr = models.BooleanField(default=False)
    request_sha256 = models.CharField(max_length=64, blank=True)
    # Set once the usage is posted to the ledger (exactly once, keyed by request_id).
    posted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["org", "created_at"], name="usage_org_created")]
        constraints = [
            models.UniqueConstraint(fields=["request_id"], name="usage_request_id_unique"),
        ]

    def __str__(self) -> str:
        return f"usage {self.request_id}"
