"""The double-entry ledger: accounts, transactions and their entries, in integer nano-USD.

Sign convention: an entry's `amount_nanos` is positive when it credits the account from the
customer's side of the books (money into a wallet, revenue earned, a payable owed) and negative
when it debits it. So an org's wallet balance is the plain sum of its wallet account's entries,
and every transaction's entries sum to zero.

Append-only: the services only ever insert. On PostgreSQL triggers (migration 0002) refuse
UPDATE and DELETE of entries and transactions, and a deferred constraint trigger refuses a commit
in which any transaction's entries do not sum to zero.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from marketplace.tenancy.models import Organization


class AccountKind(models.TextChoices):
    WALLET = "wallet", "Org wallet"
    PROVIDER_PAYABLE = "provider_payable", "Provider payable"
    MARGIN_REVENUE = "margin_revenue", "Margin revenue"
    BYOK_FEE_REVENUE = "byok_fee_revenue", "BYOK-fee revenue"
    SPONSORED_REVENUE = "sponsored_revenue", "Sponsored-listing revenue"
    STRIPE_CLEARING = "stripe_clearing", "Stripe clearing"
    PROMOTIONAL_CREDIT = "promotional_credit", "Promotional credit"
    WRITE_OFF = "write_off", "Write-off (owed upstream, not charged)"


class LedgerAccount(models.Model):
    """One account. Wallet accounts belong to an org; system accounts have no org.

    `code` names the account uniquely: `wallet:<org id>`, `provider_payable:<provider slug>`,
    or the kind itself for the single system accounts (`margin_revenue`, `stripe_clearing`, ...).
    """

    code = models.CharField(max_length=160, unique=True)
    kind = models.CharField(max_length=24, choices=AccountKind.choices)
    # Null for system accounts (revenue, payables, clearing): they are shared by every org.
    org = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="wallet", org__isnull=False)
                | (~Q(kind="wallet") & Q(org__isnull=True)),
                name="ledger_account_wallet_has_org",
            ),
            models.UniqueConstraint(
                fields=["org"], condition=Q(kind="wallet"), name="ledger_one_wallet_account_per_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TransactionKind(models.TextChoices):
    TOP_UP = "top_up", "Top-up"
    CHARGE = "charge", "Usage charge"
    SPONSORED = "sponsored", "Sponsored listing"
    PROMOTIONAL_CREDIT = "promotional_credit", "Promotional credit"
    REFUND = "refund", "Refund"
    DISPUTE = "dispute", "Dispute"
    ADJUSTMENT = "adjustment", "Adjustment"


class LedgerTransaction(models.Model):
    """A balanced set of entries, written once.

    `idempotency_key` is unique per org: the Stripe PaymentIntent id for a top-up, the request id
    for a usage charge, the refund id for a refund, the caller's key for a grant. Writing the same
    key twice returns the first transaction and writes nothing.
    """

    org = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="ledger_transactions"
    )
    kind = models.CharField(max_length=24, choices=TransactionKind.choices)
    idempotency_key = models.CharField(max_length=200)
    memo = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(db_index=True)
    # Who did it, for staff actions (promotional credit, adjustments); null for automatic ones.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The wallet's change in this transaction (sum of its wallet-account entries), kept for lists.
    wallet_delta_nanos = models.BigIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "idempotency_key"], name="ledger_txn_idempotency_per_org"
            )
        ]
        indexes = [models.Index(fields=["org", "created_at"], name="ledger_txn_org_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.idempotency_key}"


class LedgerEntry(models.Model):
    """One leg of a transaction: a signed amount on one account."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    # The transaction's org, copied so per-org sums (invoices, checks) need no join.
    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    amount_nanos = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount_nanos=0), name="ledger_entry_nonzero")
        ]
        indexes = [models.Index(fields=["account", "org"], name="ledger_entry_account_org")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount_nanos}"
