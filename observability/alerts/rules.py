"""The four kinds of alert: their defaults, bounds, and the words an event is told in.

An org has the defaults of a kind until an owner or admin saves a rule of that kind:

- low_balance: on; the threshold is the wallet's low-balance threshold (billing's, the one
  the overview always warned at; $0 turns it off).
- daily_spend: off until a threshold is set; today's (UTC) spend at or above it.
- error_rate: on at 25% over the last 15 minutes, and only once the org made at least 20
  requests in that window (so one failure of one request pages nobody). Errors are requests
  refused or failed, counted with their `count`; a client that left (cancelled) is no error.
- key_spend: on at 90%; every unrevoked key with a non-zero spend limit whose settled spend
  this period reached that share of its limit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.money import BPS, dashboard_usd
from observability.models import AlertEvent, AlertKind, AlertRule

ERROR_RATE_WINDOW = dt.timedelta(minutes=15)
DEFAULT_ERROR_RATE_PERCENT = 25
DEFAULT_ERROR_RATE_MIN_REQUESTS = 20
DEFAULT_KEY_SPEND_PERCENT = 90
MAX_MIN_REQUESTS = 1_000_000
MAX_DAILY_SPEND_USD = 10_000_000

KIND_ORDER = (AlertKind.LOW_BALANCE, AlertKind.DAILY_SPEND, AlertKind.ERROR_RATE,
              AlertKind.KEY_SPEND)
PERCENT_KINDS = frozenset({AlertKind.ERROR_RATE, AlertKind.KEY_SPEND})
MONEY_KINDS = frozenset({AlertKind.LOW_BALANCE, AlertKind.DAILY_SPEND})


@dataclass(frozen=True, slots=True)
class EffectiveRule:
    """A kind's rule as it applies: the saved row's values, else the kind's defaults."""

    kind: str
    enabled: bool
    threshold_nanos: int | None = None  # low_balance (the wallet's), daily_spend
    threshold_percent: int | None = None  # error_rate, key_spend
    min_requests: int | None = None  # error_rate
    saved: bool = False  # False: nobody saved this kind yet (defaults)

    @property
    def active(self) -> bool:
        """Enabled, with a threshold that can fire."""
        if not self.enabled:
            return False
        if self.kind in MONEY_KINDS:
            return bool(self.threshold_nanos)
        return bool(self.threshold_percent)


def default_rule(kind: str) -> EffectiveRule:
    if kind == AlertKind.DAILY_SPEND:
        return EffectiveRule(kind, enabled=False)
    if kind == AlertKind.ERROR_RATE:
        return EffectiveRule(kind, enabled=True, threshold_percent=DEFAULT_ERROR_RATE_PERCENT,
                             min_requests=DEFAULT_ERROR_RATE_MIN_REQUESTS)
    if kind == AlertKind.KEY_SPEND:
        return EffectiveRule(kind, enabled=True, threshold_percent=DEFAULT_KEY_SPEND_PERCENT)
    return EffectiveRule(kind, enabled=True)


def effective_rule(kind: str, row: AlertRule | None, *,
                   low_balance_threshold_nanos: int | None = None) -> EffectiveRule:
    """The rule of `kind` from its saved row (or None); low_balance takes the wallet's figure."""
    default = default_rule(kind)
    if row is None:
        rule = default
    else:
        rule = EffectiveRule(
            kind, enabled=row.enabled,
            threshold_nanos=row.threshold_nanos,
            threshold_percent=(row.threshold_percent if row.threshold_percent is not None
                               else default.threshold_percent),
            min_requests=(row.min_requests if row.min_requests is not None
                          else default.min_requests),
            saved=True)
    if kind == AlertKind.LOW_BALANCE:
        rule = EffectiveRule(kind, enabled=rule.enabled,
                             threshold_nanos=low_balance_threshold_nanos, saved=rule.saved)
    return rule


def percent_text(bps: int) -> str:
    """Basis points as a percent with at most two decimals: 2500 → "25%", 3333 → "33.33%"."""
    whole, rest = divmod(bps, 100)
    return f"{whole}%" if not rest else f"{whole}.{rest:02d}".rstrip("0") + "%"


def threshold_text(kind: str, nanos: int | None, percent: int | None) -> str:
    if kind in MONEY_KINDS:
        return dashboard_usd(nanos) if nanos is not None else "not set"
    return f"{percent}%" if percent is not None else "not set"


@dataclass(frozen=True, slots=True)
class Described:
    title: str
    message: str
    value: str
    threshold: str


def describe(event: AlertEvent | dict) -> Described:
    """An event's title and one-sentence message, with its value and threshold as text.

    Takes the model or its `values()` dict (the banner caches plain dicts).
    """
    get = event.get if isinstance(event, dict) else lambda name: getattr(event, name)
    kind, value, threshold, detail = get("kind"), get("value"), get("threshold"), get("detail")
    detail = detail or {}
    if kind == AlertKind.LOW_BALANCE:
        v, t = dashboard_usd(value), dashboard_usd(threshold)
        return Described(
            "Your balance is low",
            f"{v} available, below this organization's warning threshold of {t}. "
            "Requests are refused once it runs out.", v, t)
    if kind == AlertKind.DAILY_SPEND:
        v, t = dashboard_usd(value), dashboard_usd(threshold)
        return Described(
            "Daily spend is over the alert threshold",
            f"{v} spent today (UTC), at or above the daily spend alert of {t}.", v, t)
    if kind == AlertKind.ERROR_RATE:
        v, t = percent_text(value), percent_text(threshold)
        return Described(
            "High error rate",
            f"{detail.get('errors', 0)} of {detail.get('requests', 0)} requests in the last "
            f"15 minutes did not succeed ({v}), at or above the error-rate alert of {t}.", v, t)
    v, t = percent_text(value), percent_text(threshold)
    name = detail.get("key_name", "")
    prefix = detail.get("key_prefix", "")
    limit = dashboard_usd(detail.get("limit_nanos", 0))
    spent = dashboard_usd(detail.get("spent_nanos", 0))
    period = {"day": "daily", "week": "weekly", "month": "monthly", "total": "total"}.get(
        detail.get("period", ""), "")
    return Described(
        f"Key “{name}” is near its spend limit",
        f"Key “{name}” ({prefix}…) spent {spent} of its {period} limit of {limit} ({v}), at or "
        f"above the key spend alert of {t}.", v, t)


def share_bps(part: int, whole: int) -> int:
    """part / whole in basis points, rounded down (integers only)."""
    return part * BPS // whole if whole else 0
