"""Charging vendors for sponsored impressions and clicks, and posting those charges to the ledger.

Billing knows nothing of campaigns (it may not import the listings app): the listings app
reserves a campaign's budget and, in the same database transaction, calls `charge_sponsored`,
which moves the vendor's cached wallet balance at once with one conditional UPDATE that refuses
to overdraw (as the gateway's holds do) and records a `SponsoredCharge`, unique per
(org, idempotency key). The ledger learns of it later, in batches (`post_sponsored_charges`,
run every minute by `billing.tasks.sponsored`): wallet -amount, sponsored-listing revenue
+amount, never moving the balance again. Until posted, a charge is what
`check_wallet_consistency` subtracts from the wallet's ledger sum.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from billing.models import (
    AccountKind,
    Invoice,
    LedgerEntry,
    LedgerTransaction,
    SponsoredCharge,
    TransactionKind,
    Wallet,
)
from billing.services.invoices import period_bounds
from billing.services.ledger import PostingBatch, system_account, wallet_account
from core.errors import InsufficientCredits

logger = logging.getLogger(__name__)

# The ledger key of a charge is this prefix and the charge's own key (at most 200 characters).
LEDGER_KEY_PREFIX = "sponsored:"
MAX_KEY_LENGTH = 200 - len(LEDGER_KEY_PREFIX)
# Enough batches per run to drain a busy minute; the next run picks up the rest.
MAX_BATCHES_PER_RUN = 200


def charge_sponsored(
    *,
    org_id: int,
    amount_nanos: int,
    idempotency_key: str,
    event: str,
    campaign_ref: str,
    description: str,
    model: str,
    placement: str,
    now: datetime | None = None,
) -> bool:
    """Charge the vendor's wallet `amount_nanos` once per (org, idempotency_key).

    Must run inside the caller's transaction (the listings app reserves the campaign's budget
    in the same one). True: charged now. False: this key was already charged; nothing moved.
    Raises InsufficientCredits when the wallet's balance plus credit limit, less what open
    holds reserve, cannot pay; then nothing of this call remains.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("charge_sponsored must run inside the caller's transaction")
    if amount_nanos <= 0:
        raise ValueError("a sponsored charge must be positive")
    if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
        raise ValueError(f"a sponsored charge needs a key of 1 to {MAX_KEY_LENGTH} characters")
    now = now or timezone.now()
    # A savepoint: a repeat's IntegrityError, or a wallet that cannot pay, undoes only this.
    with transaction.atomic():
        try:
            with transaction.atomic():
                SponsoredCharge.objects.create(
                    org_id=org_id, idempotency_key=idempotency_key, amount_nanos=amount_nanos,
                    event=event[:10], campaign_ref=campaign_ref[:40],
                    description=description[:200], model=model[:200],
                    placement=placement[:20], created_at=now,
                )
        except IntegrityError:
            # Only the key is unique here: a concurrent or earlier charge of the same event.
            if SponsoredCharge.objects.filter(org_id=org_id,
                                              idempotency_key=idempotency_key).exists():
                return False
            raise
        # One statement: PostgreSQL re-checks the WHERE after taking the row lock, so
        # concurrent charges (and the gateway's holds) can never overdraw between them.
        moved = Wallet.objects.filter(
            org_id=org_id,
            balance_nanos__gte=F("held_nanos") - F("credit_limit_nanos") + amount_nanos,
        ).update(balance_nanos=F("balance_nanos") - amount_nanos)
        if moved != 1:
            raise InsufficientCredits("The vendor's wallet cannot pay for this sponsored event.")
    return True


def post_sponsored_batch(*, batch_size: int = 500, after_id: int = 0) -> PostingBatch:
    """Post one batch of unposted sponsored charges (id > after_id) to the ledger.

    Exactly once: each charge's transaction (key `sponsored:<charge key>`) and its `posted_at`
    commit together, and rows are claimed with SKIP LOCKED so concurrent runs take disjoint
    batches; a run killed halfway rolls its whole batch back. The wallet balance is not
    touched: `charge_sponsored` already moved it.
    """
    with transaction.atomic():
        charges = list(
            SponsoredCharge.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("org")
            .filter(posted_at__isnull=True, id__gt=after_id)
            .order_by("id")[:batch_size]
        )
        if not charges:
            return PostingBatch(claimed=0, posted=0, last_id=after_id)
        # A key already in the ledger (it cannot be: posted_at commits with it) is only marked.
        already = set(
            LedgerTransaction.objects.filter(
                org_id__in={c.org_id for c in charges},
                idempotency_key__in=[LEDGER_KEY_PREFIX + c.idempotency_key for c in charges],
            ).values_list("org_id", "idempotency_key")
        )
        to_post = [c for c in charges
                   if (c.org_id, LEDGER_KEY_PREFIX + c.idempotency_key) not in already]
        revenue = system_account(AccountKind.SPONSORED_REVENUE)
        wallets = {}
        for charge in to_post:
            if charge.org_id not in wallets:
                wallets[charge.org_id] = wallet_account(charge.org)
        txns = LedgerTransaction.objects.bulk_create(
            LedgerTransaction(
                org_id=charge.org_id,
                kind=TransactionKind.SPONSORED,
                idempotency_key=LEDGER_KEY_PREFIX + charge.idempotency_key,
                memo=f"Sponsored {charge.event}: {charge.description}"[:500],
                created_at=charge.created_at,
                wallet_delta_nanos=-charge.amount_nanos,
                metadata={
                    "sponsored_charge_id": charge.pk, "campaign": charge.campaign_ref,
                    "model": charge.model, "event": charge.event,
                    "placement": charge.placement,
                },
            )
            for charge in to_post
        )
        LedgerEntry.objects.bulk_create(
            entry
            for txn, charge in zip(txns, to_post, strict=True)
            for entry in (
                LedgerEntry(transaction=txn, account=wallets[charge.org_id],
                            org_id=charge.org_id, amount_nanos=-charge.amount_nanos),
                LedgerEntry(transaction=txn, account=revenue, org_id=charge.org_id,
                            amount_nanos=charge.amount_nanos),
            )
        )
        SponsoredCharge.objects.filter(pk__in=[c.pk for c in charges]).update(
            posted_at=timezone.now()
        )
        _ensure_invoices(charges)
    return PostingBatch(claimed=len(charges), posted=len(charges), last_id=charges[-1].pk)


def _ensure_invoices(charges: list[SponsoredCharge]) -> None:
    """Give each charge's org and month an invoice, so a vendor with no API usage (whose
    invoices the usage roll never opens) is still invoiced for its sponsored spend."""
    periods = {(c.org_id, *period_bounds(c.created_at)) for c in charges}
    Invoice.objects.bulk_create(
        [Invoice(org_id=org_id, period_start=start, period_end=end,
                 issuer=settings.INVOICE_ISSUER) for org_id, start, end in sorted(periods)],
        ignore_conflicts=True,
    )


def post_sponsored_charges(*, batch_size: int = 500) -> int:
    """Post unposted sponsored charges in batches; return how many were posted this run."""
    total = after_id = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        batch = post_sponsored_batch(batch_size=batch_size, after_id=after_id)
        total += batch.posted
        after_id = batch.last_id
        if batch.claimed < batch_size:
            break
    return total
