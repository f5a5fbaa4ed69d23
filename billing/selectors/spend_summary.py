"""Spend as the dashboard shows it: totals per period, daily series, top models and keys.

Every read aggregates in SQL over the org's usage records (index `usage_org_created`) and costs
one query whatever the number of records, so the pages built on it stay fast. Pages read spend
only through here: a later switch to daily rollups changes this module and no page.
Amounts are integer nanos; days are UTC dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from billing.hotpath.rules import period_starts
from billing.models import KeySpendLimit, UsageRecord, Wallet

CHART_DAYS = 30
# What a usage record is "for" on screen: the model that answered, else the one asked for
# (a request no endpoint served has no served model).
MODEL = Coalesce(NullIf(F("served_model"), Value("")), F("requested_model"))


@dataclass(frozen=True, slots=True)
class BalanceOverview:
    balance_nanos: int
    held_nanos: int
    credit_limit_nanos: int
    low_balance_threshold_nanos: int

    @property
    def available_nanos(self) -> int:
        """What new requests may still reserve (the gateway's rule: balance − holds + credit)."""
        return self.balance_nanos - self.held_nanos + self.credit_limit_nanos

    @property
    def is_low(self) -> bool:
        return self.available_nanos < self.low_balance_threshold_nanos


def get_balance_overview(org_id: int) -> BalanceOverview:
    """The wallet's figures and its low-balance threshold (an org with no wallet yet has $0)."""
    row = Wallet.objects.filter(org_id=org_id).values_list(
        "balance_nanos", "held_nanos", "credit_limit_nanos", "low_balance_threshold_nanos"
    ).first()
    if row is None:
        threshold = Wallet._meta.get_field("low_balance_threshold_nanos").get_default()
        return BalanceOverview(0, 0, 0, threshold)
    return BalanceOverview(*row)


def get_spend_totals(org_id: int, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Spend today, this week and this month (UTC periods), with requests and tokens.

    Keys: `spend_{day,week,month}_nanos`, `requests_{day,month}`, `prompt_tokens_month`
    (cache reads and writes included) and `completion_tokens_month`.
    """
    starts = period_starts(now or timezone.now())
    earliest = min(starts.values())
    day, week, month = (Q(created_at__gte=starts[p]) for p in ("day", "week", "month"))
    totals = UsageRecord.objects.filter(org_id=org_id, created_at__gte=earliest).aggregate(
        spend_day_nanos=Sum("charge_nanos", filter=day),
        spend_week_nanos=Sum("charge_nanos", filter=week),
        spend_month_nanos=Sum("charge_nanos", filter=month),
        requests_day=Count("id", filter=day),
        requests_month=Count("id", filter=month),
        prompt_tokens_month=Sum(
            F("prompt_tokens") + F("cache_read_tokens") + F("cache_write_tokens"), filter=month
        ),
        completion_tokens_month=Sum("completion_tokens", filter=month),
    )
    return {name: value or 0 for name, value in totals.items()}


def chart_days(now: dt.datetime | None = None, days: int = CHART_DAYS) -> list[dt.date]:
    """The last `days` UTC dates, oldest first, today last."""
    today = period_starts(now or timezone.now())["day"].date()
    return [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]


def _since(days: list[dt.date]) -> dt.datetime:
    return dt.datetime.combine(days[0], dt.time.min, tzinfo=dt.UTC)


def list_daily_spend_by_model(
    org_id: int, *, days: list[dt.date], key_id: int | None = None
) -> list[dict]:
    """Spend and requests per (UTC day, model) over `days`: rows of day, model, spend_nanos,
    requests; days with no usage are absent."""
    rows = UsageRecord.objects.filter(org_id=org_id, created_at__gte=_since(days))
    if key_id is not None:
        rows = rows.filter(api_key_id=key_id)
    return list(
        rows.annotate(day=TruncDate("created_at", tzinfo=dt.UTC), model=MODEL)
        .values("day", "model")
        .annotate(spend_nanos=Sum("charge_nanos"), requests=Count("id"))
        .order_by("day", "model")
    )


def list_top_models(org_id: int, *, since: dt.datetime, limit: int = 5) -> list[dict]:
    """The models the org spent most on since `since`: model, spend_nanos, requests, tokens."""
    return list(
        UsageRecord.objects.filter(org_id=org_id, created_at__gte=since)
        .annotate(model=MODEL)
        .values("model")
        .annotate(
            spend_nanos=Sum("charge_nanos"),
            requests=Count("id"),
            tokens=Sum(F("prompt_tokens") + F("cache_read_tokens") + F("cache_write_tokens")
                       + F("completion_tokens")),
        )
        .order_by("-spend_nanos", "-requests", "model")[:limit]
    )


def list_top_keys(org_id: int, *, since: dt.datetime, limit: int = 5) -> list[dict]:
    """The keys that spent most since `since`: key_id, name, prefix, spend_nanos, requests.

    Usage of a deleted key groups under key_id None (name and prefix None).
    """
    return list(
        UsageRecord.objects.filter(org_id=org_id, created_at__gte=since)
        .values("api_key_id")
        .annotate(
            name=F("api_key__name"),
            prefix=F("api_key__prefix"),
            spend_nanos=Sum("charge_nanos"),
            requests=Count("id"),
        )
        .order_by("-spend_nanos", "-requests", "api_key_id")[:limit]
    )


RECENT_FIELDS = ("request_id", "created_at", "requested_model", "served_model",
                 "provider_slug", "prompt_tokens", "completion_tokens", "charge_nanos",
                 "finish_reason", "cancelled", "estimated", "latency_ms", "api_key_id")


def list_recent_usage(org_id: int, *, limit: int = 10) -> list[dict]:
    """The org's latest requests, newest first, with the key's name and a `status`.

    `status` is "cancelled" (the client went away), "error" (no answer, or it broke off) or
    "ok".
    """
    rows = list(
        UsageRecord.objects.filter(org_id=org_id)
        .order_by("-created_at", "-id")
        .values(*RECENT_FIELDS, key_name=F("api_key__name"))[:limit]
    )
    for row in rows:
        if row["cancelled"]:
            row["status"] = "cancelled"
        elif row["finish_reason"] == "error" or not row["served_model"]:
            row["status"] = "error"
        else:
            row["status"] = "ok"
    return rows


def get_spend_by_key(org_id: int, *, now: dt.datetime | None = None) -> dict[int, dict]:
    """Each key's spend today and this month: {key_id: {"day_nanos", "month_nanos"}}."""
    starts = period_starts(now or timezone.now())
    since = min(starts["day"], starts["month"])
    rows = (
        UsageRecord.objects.filter(org_id=org_id, created_at__gte=since,
                                   api_key_id__isnull=False)
        .values("api_key_id")
        .annotate(
            day_nanos=Sum("charge_nanos", filter=Q(created_at__gte=starts["day"])),
            month_nanos=Sum("charge_nanos", filter=Q(created_at__gte=starts["month"])),
        )
    )
    return {
        row["api_key_id"]: {"day_nanos": row["day_nanos"] or 0,
                            "month_nanos": row["month_nanos"] or 0}
        for row in rows
    }


def get_key_limits(org_id: int) -> dict[int, KeySpendLimit]:
    """The org's key spend limits by key id."""
    return {limit.api_key_id: limit for limit in KeySpendLimit.objects.filter(org_id=org_id)}
