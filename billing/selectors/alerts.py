"""Reads for observability's alerts, across every org at once (one query each, whatever the
number of orgs): balances below their low-balance threshold, today's spend, and how much of
its limit each key has spent. Amounts are integer nanos; days and periods are UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import F, Sum
from django.utils import timezone

from billing.hotpath.rules import current_period_start, effective_spent, period_starts
from billing.models import KeySpendLimit, UsageRecord, Wallet
from billing.selectors.spend_summary import BalanceOverview


def default_low_balance_threshold_nanos() -> int:
    """The threshold of an org that has no wallet yet."""
    return Wallet._meta.get_field("low_balance_threshold_nanos").get_default()


def list_low_balances(org_ids: Collection[int]) -> dict[int, BalanceOverview]:
    """Of `org_ids`, the orgs whose available balance is below their (non-zero) threshold.

    A threshold of 0 is "off". An org with no wallet has $0 available against the default
    threshold (as the overview always showed it). Two queries: the low wallets (filtered in
    SQL), and which of the orgs have a wallet at all.
    """
    available = F("balance_nanos") - F("held_nanos") + F("credit_limit_nanos")
    low = {
        row[0]: BalanceOverview(*row[1:])
        for row in Wallet.objects.annotate(available=available)
        .filter(low_balance_threshold_nanos__gt=0, available__lt=F("low_balance_threshold_nanos"))
        .values_list("org_id", "balance_nanos", "held_nanos", "credit_limit_nanos",
                     "low_balance_threshold_nanos")
    }
    default = default_low_balance_threshold_nanos()
    if default > 0:
        with_wallet = set(Wallet.objects.values_list("org_id", flat=True))
        for org_id in org_ids:
            if org_id not in with_wallet:
                low[org_id] = BalanceOverview(0, 0, 0, default)
    return {org_id: balance for org_id, balance in low.items() if org_id in org_ids}


def get_spend_today_by_org(org_ids: Collection[int], *,
                           now: dt.datetime | None = None) -> dict[int, int]:
    """Each of `org_ids`' spend since today's UTC midnight (orgs with none absent)."""
    if not org_ids:
        return {}
    day = period_starts(now or timezone.now())["day"]
    rows = (UsageRecord.objects.filter(org_id__in=list(org_ids), created_at__gte=day)
            .values("org_id").annotate(spend=Sum("charge_nanos")).order_by())
    return {row["org_id"]: row["spend"] or 0 for row in rows}


@dataclass(frozen=True, slots=True)
class KeyLimitUsage:
    org_id: int
    key_id: int
    key_name: str
    key_prefix: str
    limit_nanos: int
    period: str
    spent_nanos: int  # settled this period (open holds not counted: they are estimates)


def list_key_limit_usage(*, now: dt.datetime | None = None) -> list[KeyLimitUsage]:
    """Every unrevoked key with a non-zero spend limit, and what it spent this period."""
    now = now or timezone.now()
    rows = (KeySpendLimit.objects.filter(limit_nanos__gt=0, api_key__revoked_at__isnull=True)
            .values_list("org_id", "api_key_id", "api_key__name", "api_key__prefix",
                         "limit_nanos", "period", "spent_nanos", "period_start"))
    result = []
    for org_id, key_id, name, prefix, limit, period, spent, stored_start in rows:
        start = current_period_start(period, now, stored_start)
        result.append(KeyLimitUsage(org_id, key_id, name, prefix, limit, period,
                                    effective_spent(spent, stored_start, start)))
    return result
