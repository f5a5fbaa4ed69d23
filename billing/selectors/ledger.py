"""Reads of wallets, ledger transactions and top-ups, always scoped to one org."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from billing.models import AutoTopUp, LedgerTransaction, TopUp, Wallet
from core.errors import NotFound
from marketplace.tenancy.models import Organization


@dataclass(frozen=True, slots=True)
class WalletSummary:
    balance_nanos: int
    held_nanos: int
    credit_limit_nanos: int

    @property
    def available_nanos(self) -> int:
        """What new requests may still reserve: balance less open holds (plus credit limit)."""
        return self.balance_nanos - self.held_nanos + self.credit_limit_nanos


def get_wallet_summary(org: Organization) -> WalletSummary:
    wallet = Wallet.objects.filter(org=org).first()
    if wallet is None:
        return WalletSummary(0, 0, 0)
    return WalletSummary(wallet.balance_nanos, wallet.held_nanos, wallet.credit_limit_nanos)


def list_wallet_transactions(
    org: Organization,
    *,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[LedgerTransaction]:
    """The org's ledger transactions that moved its wallet, newest first."""
    rows = LedgerTransaction.objects.filter(org=org).exclude(wallet_delta_nanos=0)
    if kind:
        rows = rows.filter(kind=kind)
    if since:
        rows = rows.filter(created_at__gte=since)
    if until:
        rows = rows.filter(created_at__lt=until)
    return rows.order_by("-created_at", "-id")


def list_top_ups(org: Organization) -> QuerySet[TopUp]:
    return TopUp.objects.filter(org=org).order_by("-created_at", "-id")


def access_top_up(org: Organization, top_up_id: int) -> TopUp:
    """The org's top-up; another org's id is NotFound, exactly like a missing one."""
    top_up = TopUp.objects.filter(org=org, pk=top_up_id).first()
    if top_up is None:
        raise NotFound("No such top-up.")
    return top_up


def get_auto_top_up(org: Organization) -> AutoTopUp | None:
    return AutoTopUp.objects.filter(org=org).first()
