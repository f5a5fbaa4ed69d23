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


@dataclass(frozen=True, slots=True)
class SpendOverview:
    """What the overview shows of spending, from one grouped read (see get_spend_overview)."""

    # spend_{day,week,month}_nanos, requests_{day,month}, prompt_tokens_month (cache reads and
    # writes included), completion_tokens_month
    totals: dict[str, int]
    # Rows of day, model, spend_nanos, requests over `days` (days with no usage absent).
    daily_by_model: list[dict]
    # This month's models by spend: model, spend_nanos, requests, tokens.
    top_models: list[dict]
    days: list[dt.date]


def _per_day_and_model(org_id: int, since: dt.datetime, key_id: int | None = None):
    rows = UsageRecord.objects.filter(org_id=org_id, created_at__gte=since)
    if key_id is not None:
        rows = rows.filter(api_key_id=key_id)
    return (
        rows.annotate(day=TruncDate("created_at", tzinfo=dt.UTC), model=MODEL)
        .values("day", "model")
        .annotate(
            spend_nanos=Sum("charge_nanos"),
            requests=Count("id"),
            prompt_tokens=Sum(F("prompt_tokens") + F("cache_read_tokens")
                              + F("cache_write_tokens")),
            completion_tokens=Sum("completion_tokens"),
        )
        # No ORDER BY: sorting the rows by a collated text before grouping costs more than
        # the scan; callers sort the few groups (_sorted).
        .order_by()
    )


def _sorted(rows) -> list[dict]:
    return sorted(rows, key=lambda row: (row["day"], row["model"]))


def get_spend_overview(org_id: int, *, now: dt.datetime | None = None,
                       chart_length: int = CHART_DAYS, top: int = 5) -> SpendOverview:
    """Spend today, this week and this month, the daily spend by model over the last
    `chart_length` days and this month's top models: one query, grouped by UTC day and model,
    since the earliest of those starts (every period begins on a UTC day)."""
    now = now or timezone.now()
    starts = period_starts(now)
    days = chart_days(now, chart_length)
    chart_start = days[0]
    rows = _sorted(_per_day_and_model(org_id, min(_since(days), starts["week"], starts["month"])))
    totals = dict.fromkeys(
        ("spend_day_nanos", "spend_week_nanos", "spend_month_nanos", "requests_day",
         "requests_month", "prompt_tokens_month", "completion_tokens_month"), 0)
    day, week, month = (starts[p].date() for p in ("day", "week", "month"))
    models: dict[str, dict] = {}
    for row in rows:
        spend, requests = row["spend_nanos"] or 0, row["requests"]
        if row["day"] >= day:
            totals["spend_day_nanos"] += spend
            totals["requests_day"] += requests
        if row["day"] >= week:
            totals["spend_week_nanos"] += spend
        if row["day"] >= month:
            totals["spend_month_nanos"] += spend
            totals["requests_month"] += requests
            totals["prompt_tokens_month"] += row["prompt_tokens"] or 0
            totals["completion_tokens_month"] += row["completion_tokens"] or 0
            entry = models.setdefault(row["model"], {"model": row["model"], "spend_nanos": 0,
                                                     "requests": 0, "tokens": 0})
            entry["spend_nanos"] += spend
            entry["requests"] += requests
            entry["tokens"] += (row["prompt_tokens"] or 0) + (row["completion_tokens"] or 0)
    top_models = sorted(models.values(),
                        key=lambda m: (-m["spend_nanos"], -m["requests"], m["model"]))[:top]
    return SpendOverview(
        totals=totals,
        daily_by_model=[row for row in rows if row["day"] >= chart_start],
        top_models=top_models,
        days=days,
    )


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
    requests (and prompt/completion tokens); days with no usage are absent."""
    return _sorted(_per_day_and_model(org_id, _since(days), key_id))


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
