"""Ledger writes: balanced, append-only, idempotent transactions.

Every money movement that is not the hot path's settlement goes through `post_transaction`,
which inserts the transaction and its entries and, in the same database transaction, moves the
wallet's cached `balance_nanos` with `F()`. The hot path's settle has already debited the wallet
for a usage record, so posting usage (`post_usage_records`) writes the ledger legs only.

Sponsored-listing charges (billing/services/sponsored.py) likewise move the balance at once and
are posted later. The invariant tying them together, checked by `check_wallet_consistency`:
    wallet.balance_nanos == sum(wallet ledger entries) - sum(charge_nanos of unposted usage)
                            - sum(amount_nanos of unposted sponsored charges)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import (
    AccountKind,
    Hold,
    HoldStatus,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    SponsoredCharge,
    TransactionKind,
    UsageRecord,
    Wallet,
)
from core.errors import Conflict, InvalidRequest
from marketplace.tenancy.audit import record_audit
from marketplace.tenancy.models import Organization

logger = logging.getLogger(__name__)

_SYSTEM_NAMES = {
    AccountKind.MARGIN_REVENUE: "Marketplace margin revenue",
    AccountKind.BYOK_FEE_REVENUE: "BYOK-fee revenue",
    AccountKind.SPONSORED_REVENUE: "Sponsored-listing revenue",
    AccountKind.STRIPE_CLEARING: "Stripe clearing",
    AccountKind.PROMOTIONAL_CREDIT: "Promotional credit",
    AccountKind.WRITE_OFF: "Write-off (owed upstream, not charged)",
}


@dataclass(frozen=True, slots=True)
class Leg:
    account: LedgerAccount
    amount_nanos: int


@dataclass(frozen=True, slots=True)
class Posted:
    transaction: LedgerTransaction
    created: bool  # False: the idempotency key was already posted; nothing was written


def ensure_wallet(org: Organization) -> Wallet:
    """Return the org's wallet, creating it and its ledger account if missing (idempotent)."""
    wallet, _ = Wallet.objects.get_or_create(org=org)
    wallet_account(org)
    return wallet


def wallet_account(org: Organization) -> LedgerAccount:
    account, _ = LedgerAccount.objects.get_or_create(
        code=f"wallet:{org.pk}",
        defaults={"kind": AccountKind.WALLET, "org": org, "name": f"Wallet of {org.name}"},
    )
    return account


def system_account(kind: str) -> LedgerAccount:
    """The single shared account of a system kind (margin revenue, Stripe clearing, ...)."""
    if kind not in _SYSTEM_NAMES:
        raise ValueError(f"not a single system account kind: {kind}")
    account, _ = LedgerAccount.objects.get_or_create(
        code=kind, defaults={"kind": kind, "name": _SYSTEM_NAMES[kind]}
    )
    return account


def provider_payable_account(provider_slug: str) -> LedgerAccount:
    """What we owe one provider for upstream usage; one account per provider."""
    slug = provider_slug or "unknown"
    account, _ = LedgerAccount.objects.get_or_create(
        code=f"{AccountKind.PROVIDER_PAYABLE}:{slug}",
        defaults={"kind": AccountKind.PROVIDER_PAYABLE, "name": f"Payable to {slug}"},
    )
    return account


def post_transaction(
    org: Organization,
    *,
    kind: str,
    idempotency_key: str,
    legs: Sequence[Leg],
    memo: str = "",
    actor=None,
    metadata: dict | None = None,
    move_wallet_balance: bool = True,
    created_at=None,
) -> Posted:
    """Write one balanced transaction exactly once per (org, idempotency_key).

    The legs must sum to zero; zero legs are dropped. When `move_wallet_balance` is true the
    org's cached wallet balance moves by the sum of its wallet legs in the same transaction.
    A repeated key returns the first transaction (created=False) and writes nothing; if the
    repeat disagrees about the wallet amount it is a Conflict, never a silent double post.
    """
    if not idempotency_key:
        raise InvalidRequest("A ledger transaction needs an idempotency key.")
    legs = [leg for leg in legs if leg.amount_nanos != 0]
    if not legs:
        raise InvalidRequest("A ledger transaction needs at least one non-zero entry.")
    if sum(leg.amount_nanos for leg in legs) != 0:
        raise InvalidRequest("A ledger transaction's entries must sum to zero.")
    for leg in legs:
        if leg.account.kind == AccountKind.WALLET and leg.account.org_id != org.pk:
            raise InvalidRequest("A transaction may only touch its own org's wallet.")
    wallet_delta = sum(leg.amount_nanos for leg in legs if leg.account.kind == AccountKind.WALLET)

    existing = _existing(org, idempotency_key, wallet_delta)
    if existing is not None:
        return Posted(existing, False)
    try:
        with transaction.atomic():
            txn = LedgerTransaction.objects.create(
                org=org,
                kind=kind,
                idempotency_key=idempotency_key,
                memo=memo[:500],
                created_at=created_at or timezone.now(),
                actor=actor,
                wallet_delta_nanos=wallet_delta,
                metadata=metadata or {},
            )
            LedgerEntry.objects.bulk_create(
                LedgerEntry(
                    transaction=txn, account=leg.account, org=org, amount_nanos=leg.amount_nanos
                )
                for leg in legs
            )
            if move_wallet_balance and wallet_delta:
                moved = Wallet.objects.filter(org=org).update(
                    balance_nanos=F("balance_nanos") + wallet_delta
                )
                if moved != 1:
                    raise InvalidRequest("The organization has no wallet.")
    except IntegrityError:
        # A concurrent writer committed the same key between our check and our insert.
        existing = _existing(org, idempotency_key, wallet_delta)
        if existing is None:
            raise
        return Posted(existing, False)
    return Posted(txn, True)


def _existing(org: Organization, key: str, wallet_delta: int) -> LedgerTransaction | None:
    txn = LedgerTransaction.objects.filter(org=org, idempotency_key=key).first()
    if txn is not None and txn.wallet_delta_nanos != wallet_delta:
        raise Conflict(f"Idempotency key {key!r} was already posted with a different amount.")
    return txn


def grant_promotional_credit(
    org: Organization, amount_nanos: int, *, memo: str, idempotency_key: str, actor=None
) -> Posted:
    """Credit the org's wallet from the promotional-credit account (idempotent, audited).

    `actor` (the staff user, if any) is recorded on the transaction and, with the amount, in
    the org's audit log in the same transaction; a repeated idempotency key writes neither.
    """
    if amount_nanos <= 0:
        raise InvalidRequest("Promotional credit must be a positive amount.")
    with transaction.atomic():
        ensure_wallet(org)
        posted = post_transaction(
            org,
            kind=TransactionKind.PROMOTIONAL_CREDIT,
            idempotency_key=idempotency_key,
            legs=[
                Leg(wallet_account(org), amount_nanos),
                Leg(system_account(AccountKind.PROMOTIONAL_CREDIT), -amount_nanos),
            ],
            memo=memo,
            actor=actor,
        )
        if posted.created:
            record_audit(org=org, action="promotional_credit.granted", actor=actor,
                         target=posted.transaction,
                         after={"amount_nanos": amount_nanos, "memo": memo})
    return posted


# --- usage posting -------------------------------------------------------------------------


class UnbalancedUsage(Exception):
    """A usage record whose amounts do not add up; it stays unposted and is logged."""


class _Accounts:
    """Per-batch memo of account rows, so a batch of records costs one lookup per account."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, object], LedgerAccount] = {}

    def get(self, key: tuple[str, object], load) -> LedgerAccount:
        if key not in self._rows:
            self._rows[key] = load()
        return self._rows[key]

    def wallet(self, org: Organization) -> LedgerAccount:
        return self.get(("wallet", org.pk), lambda: wallet_account(org))

    def system(self, kind: str) -> LedgerAccount:
        return self.get(("system", kind), lambda: system_account(kind))

    def payable(self, slug: str) -> LedgerAccount:
        return self.get(("payable", slug), lambda: provider_payable_account(slug))


def usage_legs(record: UsageRecord, accounts: _Accounts | None = None) -> list[Leg]:
    """The ledger legs of one usage record; they sum to zero or UnbalancedUsage is raised.

    Non-BYOK: wallet -charge, provider payable +upstream cost, margin revenue +margin,
    write-off -write_off (cost owed upstream but not charged), so
    charge == upstream + margin - write_off. BYOK: the caller pays the provider directly, so
    only the fee moves: wallet -charge, BYOK-fee revenue +fee (charge == fee - write_off).
    """
    accounts = accounts or _Accounts()
    legs = [
        Leg(accounts.wallet(record.org), -record.charge_nanos),
        Leg(accounts.system(AccountKind.MARGIN_REVENUE), record.margin_nanos),
        Leg(accounts.system(AccountKind.BYOK_FEE_REVENUE), record.byok_fee_nanos),
        Leg(accounts.system(AccountKind.WRITE_OFF), -record.write_off_nanos),
    ]
    if not record.is_byok:
        legs.append(Leg(accounts.payable(record.provider_slug), record.upstream_cost_nanos))
    if sum(leg.amount_nanos for leg in legs) != 0:
        raise UnbalancedUsage(
            f"usage {record.request_id}: charge {record.charge_nanos} != upstream "
            f"{0 if record.is_byok else record.upstream_cost_nanos} + margin "
            f"{record.margin_nanos} + fee {record.byok_fee_nanos} - write-off "
            f"{record.write_off_nanos}"
        )
    return legs


@dataclass(frozen=True, slots=True)
class PostingBatch:
    claimed: int  # rows looked at (a full batch means there may be more)
    posted: int
    last_id: int  # resume after this id, so unbalanced rows never stall a run


def post_usage_records(*, batch_size: int = 500, after_id: int = 0) -> PostingBatch:
    """Post one batch of unposted usage records (id > after_id) to the ledger.

    Exactly once: each record's transaction (idempotency key = request id) and its `posted_at`
    are written in one database transaction, and rows are claimed with SKIP LOCKED so
    concurrent runs take disjoint batches; a run killed halfway rolls the whole batch back.
    The batch is written with a few set-based statements (busy hours post thousands). The
    wallet balance is not touched: the settlement already debited it.
    """
    with transaction.atomic():
        records = list(
            UsageRecord.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("org")
            .filter(posted_at__isnull=True, id__gt=after_id)
            .order_by("id")[:batch_size]
        )
        if not records:
            return PostingBatch(claimed=0, posted=0, last_id=after_id)
        # A key already in the ledger (it cannot be, posted_at commits with it) is only marked.
        already = set(
            LedgerTransaction.objects.filter(
                org_id__in={r.org_id for r in records},
                idempotency_key__in=[r.request_id for r in records],
            ).values_list("org_id", "idempotency_key")
        )
        accounts = _Accounts()
        to_post: list[tuple[UsageRecord, list[Leg]]] = []
        posted_ids = []
        for record in records:
            try:
                legs = [leg for leg in usage_legs(record, accounts) if leg.amount_nanos]
            except UnbalancedUsage as exc:
                logger.error("not posting unbalanced usage: %s", exc)
                continue
            posted_ids.append(record.pk)
            if legs and (record.org_id, record.request_id) not in already:
                to_post.append((record, legs))
        txns = LedgerTransaction.objects.bulk_create(
            LedgerTransaction(
                org_id=record.org_id,
                kind=TransactionKind.CHARGE,
                idempotency_key=record.request_id,
                memo=f"{record.served_model or record.requested_model} via "
                f"{record.provider_slug or 'unknown'}"[:500],
                created_at=record.created_at,
                wallet_delta_nanos=-record.charge_nanos,
                metadata={"usage_record_id": record.pk},
            )
            for record, _ in to_post
        )
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                transaction=txn, account=leg.account, org_id=record.org_id,
                amount_nanos=leg.amount_nanos,
            )
            for txn, (record, legs) in zip(txns, to_post, strict=True)
            for leg in legs
        )
        UsageRecord.objects.filter(pk__in=posted_ids).update(posted_at=timezone.now())
    return PostingBatch(claimed=len(records), posted=len(posted_ids), last_id=records[-1].pk)


# --- the consistency check -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WalletConsistency:
    balance_nanos: int
    ledger_nanos: int
    unposted_charge_nanos: int
    held_nanos: int
    open_holds_nanos: int
    unposted_sponsored_nanos: int = 0

    @property
    def balance_ok(self) -> bool:
        return self.balance_nanos == (
            self.ledger_nanos - self.unposted_charge_nanos - self.unposted_sponsored_nanos
        )

    @property
    def holds_ok(self) -> bool:
        return self.held_nanos == self.open_holds_nanos

    @property
    def ok(self) -> bool:
        return self.balance_ok and self.holds_ok


def check_wallet_consistency(org: Organization) -> WalletConsistency:
    """Compare the cached wallet with the ledger, unposted usage and sponsored charges, and
    open holds.

    One SQL statement, so on PostgreSQL every figure comes from the same snapshot even while
    the gateway settles and the posting task runs.
    """

    def total(queryset, field):
        return Coalesce(
            Subquery(
                queryset.values("org").annotate(total=Sum(field)).values("total")[:1]
            ),
            Value(0),
        )

    org_ref = OuterRef("org")
    row = (
        Wallet.objects.filter(org=org)
        .annotate(
            ledger=total(
                LedgerEntry.objects.filter(org=org_ref, account__kind=AccountKind.WALLET),
                "amount_nanos",
            ),
            unposted=total(
                UsageRecord.objects.filter(org=org_ref, posted_at__isnull=True), "charge_nanos"
            ),
            unposted_sponsored=total(
                SponsoredCharge.objects.filter(org=org_ref, posted_at__isnull=True),
                "amount_nanos",
            ),
            open_holds=total(
                Hold.objects.filter(org=org_ref, status=HoldStatus.OPEN), "amount_nanos"
            ),
        )
        .values("balance_nanos", "held_nanos", "ledger", "unposted", "unposted_sponsored",
                "open_holds")
        .first()
    )
    if row is None:
        return WalletConsistency(0, 0, 0, 0, 0)
    return WalletConsistency(
        balance_nanos=row["balance_nanos"],
        ledger_nanos=row["ledger"],
        unposted_charge_nanos=row["unposted"],
        held_nanos=row["held_nanos"],
        open_holds_nanos=row["open_holds"],
        unposted_sponsored_nanos=row["unposted_sponsored"],
    )
