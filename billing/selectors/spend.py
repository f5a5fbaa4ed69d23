"""Reads of spending: the margin table, a key's limit and usage, an org's credits, stale holds.

Org-scoped reads take the org (or its id) and never return another org's rows.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from billing.hotpath.rules import current_period_start, effective_spent, period_starts
from billing.models import Hold, HoldStatus, KeySpendLimit, MarginRule, UsageRecord, Wallet
from billing.pricing import MarginTable


def get_margin_table() -> MarginTable:
    """Every margin rule in one query, frozen for the gateway's hot path.

    The catalog pages, `/v1/models` and the gateway's charges all price from this table.

    `version` changes whenever a rule or the platform default does, so a holder can tell
    whether to rebuild.
    """
    rows = sorted(
        MarginRule.objects.values_list("org_id", "model_slug", "provider_slug", "bps"),
        key=lambda r: (r[0] or 0, r[1], r[2]),
    )
    rules = {(org_id, model, provider): bps for org_id, model, provider, bps in rows}
    # The platform default is the rule with no scope; MARGIN_DEFAULT_BPS only seeds it (and
    # stands in for a database emptied without migrating, as the test suite's flushes do).
    default_bps = rules.pop((None, "", ""), settings.MARGIN_DEFAULT_BPS)
    digest = hashlib.sha256(repr((default_bps, rows)).encode()).hexdigest()
    return MarginTable(
        default_bps=default_bps,
        rules=rules,
        version=digest[:16],
        orgs_with_rules=frozenset(r[0] for r in rows if r[0] is not None),
    )


def get_usage_record(org_id: int, request_id: str) -> dict | None:
    """One usage record of the org by request id, as plain values (None for another org's)."""
    return UsageRecord.objects.filter(org_id=org_id, request_id=request_id).values().first()


def get_key_spend_limit(org_id: int, key_id: int) -> KeySpendLimit | None:
    return KeySpendLimit.objects.filter(org_id=org_id, api_key_id=key_id).first()


def get_key_usage(org_id: int, key_id: int, *, now: datetime | None = None) -> dict:
    """The calling key's limit and usage for `GET /v1/key`, in nanos.

    `usage_nanos` is everything the key was ever charged (`_daily`/`_weekly`/`_monthly`: since
    the UTC period start), `byok_usage*_nanos` the list cost of its BYOK requests; with a limit,
    `limit_remaining_nanos` is the limit less this period's settled spend and open holds (never
    below zero).
    """
    now = now or timezone.now()
    starts = period_starts(now)
    byok = Q(is_byok=True)
    windows = {
        "": Q(),
        "_daily": Q(created_at__gte=starts["day"]),
        "_weekly": Q(created_at__gte=starts["week"]),
        "_monthly": Q(created_at__gte=starts["month"]),
    }
    aggregates = {}
    for suffix, window in windows.items():
        aggregates[f"usage{suffix}_nanos"] = Sum("charge_nanos", filter=window)
        # BYOK usage, as OpenRouter reports it: the list cost the caller's own account paid.
        aggregates[f"byok_usage{suffix}_nanos"] = Sum("upstream_cost_nanos",
                                                      filter=window & byok)
    usage = UsageRecord.objects.filter(org_id=org_id, api_key_id=key_id).aggregate(**aggregates)
    result = {
        **{name: value or 0 for name, value in usage.items()},
        "limit_nanos": None,
        "limit_period": None,
        "limit_remaining_nanos": None,
        "period_spent_nanos": None,
        "held_nanos": 0,
    }
    limit = get_key_spend_limit(org_id, key_id)
    if limit is not None:
        start = current_period_start(limit.period, now, limit.period_start)
        spent = effective_spent(limit.spent_nanos, limit.period_start, start)
        result.update(
            limit_nanos=limit.limit_nanos,
            limit_period=limit.period,
            period_spent_nanos=spent,
            held_nanos=limit.held_nanos,
            limit_remaining_nanos=max(limit.limit_nanos - spent - limit.held_nanos, 0),
        )
    return result


def get_org_credits(org_id: int) -> dict:
    """`GET /v1/credits`: everything credited to the org, and everything it was charged.

    Credits are derived as balance + charges (the balance is credits less settled charges), so
    the figure holds whether or not the charges have been posted to the ledger yet.
    """
    wallet = Wallet.objects.filter(org_id=org_id).values("balance_nanos", "held_nanos").first()
    charged = (
        UsageRecord.objects.filter(org_id=org_id).aggregate(total=Sum("charge_nanos"))["total"]
        or 0
    )
    balance = wallet["balance_nanos"] if wallet else 0
    return {
        "total_credits_nanos": balance + charged,
        "total_usage_nanos": charged,
        "balance_nanos": balance,
        "held_nanos": wallet["held_nanos"] if wallet else 0,
    }


def list_stale_hold_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Open holds past their request's deadline, oldest first (the sweep's work list)."""
    now = now or timezone.now()
    return list(
        Hold.objects.filter(status=HoldStatus.OPEN, deadline_at__lt=now)
        .order_by("deadline_at", "id")
        .values_list("id", flat=True)[:limit]
    )
