"""Reads of alerts, scoped to one org: its rules as they apply, its events, and the banner's
open alerts (one indexed query, cached briefly; the evaluator drops an org's cached copy
whenever one of its events opens or closes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from billing.selectors.spend_summary import get_balance_overview
from observability.alerts.rules import KIND_ORDER, EffectiveRule, describe, effective_rule
from observability.models import AlertEvent, AlertRule

RECENT_EVENT_DAYS = 30
RECENT_EVENT_LIMIT = 50
BANNER_CACHE_SECONDS = 30
_EVENT_FIELDS = ("id", "kind", "key_id", "fired_at", "cleared_at", "notified_at", "value",
                 "threshold", "detail")


def list_rules(org_id: int) -> list[EffectiveRule]:
    """The org's four rules, in a fixed order (two queries: its rules and its wallet)."""
    rows = {row.kind: row for row in AlertRule.objects.filter(org_id=org_id)}
    threshold = get_balance_overview(org_id).low_balance_threshold_nanos
    return [effective_rule(kind, rows.get(kind), low_balance_threshold_nanos=threshold)
            for kind in KIND_ORDER]


def list_events(org_id: int, *, now: dt.datetime | None = None,
                limit: int = RECENT_EVENT_LIMIT) -> list[dict]:
    """Open events and those fired in the last 30 days, open first, newest first; each with
    its `title` and `message`."""
    since = (now or timezone.now()) - dt.timedelta(days=RECENT_EVENT_DAYS)
    rows = list(
        AlertEvent.objects.filter(org_id=org_id)
        .filter(Q(cleared_at__isnull=True) | Q(fired_at__gte=since))
        .order_by("-fired_at", "-id").values(*_EVENT_FIELDS)[:limit])
    rows.sort(key=lambda row: row["cleared_at"] is not None)  # stable: open first
    return [_with_words(row) for row in rows]


def _with_words(row: dict) -> dict:
    words = describe(row)
    return {**row, "title": words.title, "message": words.message,
            "value_text": words.value, "threshold_text": words.threshold}


def _cache_key(org_id: int) -> str:
    return f"observability:open-alerts:{org_id}"


def list_open_alerts(org_id: int, *, org_created_at: dt.datetime | None = None) -> list[dict]:
    """The org's open events, oldest first, with their words (the banner).

    Cached for BANNER_CACHE_SECONDS under the org's id, stamped with the org's creation time
    so a reused id (a test database rolled back) never shows another org's copy.
    """
    stamp = org_created_at.isoformat() if org_created_at else ""
    cached = cache.get(_cache_key(org_id))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rows = [_with_words(row) for row in
            AlertEvent.objects.filter(org_id=org_id, cleared_at__isnull=True)
            .order_by("fired_at", "id").values(*_EVENT_FIELDS)]
    cache.set(_cache_key(org_id), (stamp, rows), BANNER_CACHE_SECONDS)
    return rows


def forget_open_alerts(org_ids: Iterable[int]) -> None:
    """Drop the banner's cached copy of these orgs (their events changed)."""
    keys = [_cache_key(org_id) for org_id in set(org_ids)]
    if keys:
        cache.delete_many(keys)
