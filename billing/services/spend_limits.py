"""Set and clear an API key's spend limit (owners and admins; org-scoped, so another org's key
is simply not found)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing.hotpath.rules import period_starts
from billing.models import KeySpendLimit, LimitPeriod, UsageRecord
from core.errors import Forbidden, InvalidRequest
from core.money import dashboard_usd, usd_to_nanos
from marketplace.tenancy.models import Organization
from marketplace.tenancy.roles import SETTINGS_EDITORS, Actor
from marketplace.tenancy.selectors import access_api_key

# A key's limit is at most $1,000,000,000 (10**18 nanos): more than any key should spend, and
# limit + spent + held stays far inside the signed 64-bit columns (2**63 ~ 9.2 * 10**18).
MAX_SPEND_LIMIT_USD = 1_000_000_000
MAX_SPEND_LIMIT_NANOS = usd_to_nanos(MAX_SPEND_LIMIT_USD)


def _require_editor(actor: Actor) -> None:
    if actor.role not in SETTINGS_EDITORS:
        raise Forbidden("Only owners and admins can change key spend limits.")


def set_key_spend_limit(
    *, org: Organization, key_id, limit_nanos: int, period: str, actor: Actor
) -> KeySpendLimit:
    """Create or change a key's limit.

    A new limit, or a new period, starts from what the key was already charged in the current
    period, so a $10/day limit set at noon after $8 of use leaves $2. Open holds keep counting.
    """
    _require_editor(actor)
    key = access_api_key(org, key_id)
    if period not in LimitPeriod.values:
        raise InvalidRequest(
            f"period must be one of {', '.join(LimitPeriod.values)}.", param="period"
        )
    if isinstance(limit_nanos, bool) or not isinstance(limit_nanos, int) or not (
            0 <= limit_nanos <= MAX_SPEND_LIMIT_NANOS):
        raise InvalidRequest(
            f"limit must be between $0 and {dashboard_usd(MAX_SPEND_LIMIT_NANOS)}.",
            param="limit")
    now = timezone.now()
    with transaction.atomic():
        limit = KeySpendLimit.objects.select_for_update().filter(api_key=key).first()
        if limit is not None and limit.period == period:
            KeySpendLimit.objects.filter(pk=limit.pk).update(limit_nanos=limit_nanos)
            limit.refresh_from_db()
            return limit
        start = period_starts(now)[period] if period != LimitPeriod.TOTAL else None
        usage = UsageRecord.objects.filter(org=org, api_key=key)
        if start is not None:
            usage = usage.filter(created_at__gte=start)
        spent = usage.aggregate(total=Sum("charge_nanos"))["total"] or 0
        fields = {
            "limit_nanos": limit_nanos,
            "period": period,
            "spent_nanos": spent,
            "period_start": start or now,
        }
        if limit is None:
            return KeySpendLimit.objects.create(org=org, api_key=key, **fields)
        KeySpendLimit.objects.filter(pk=limit.pk).update(**fields)
        limit.refresh_from_db()
        return limit


def clear_key_spend_limit(*, org: Organization, key_id, actor: Actor) -> bool:
    """Remove a key's limit; False if it had none."""
    _require_editor(actor)
    key = access_api_key(org, key_id)
    deleted, _ = KeySpendLimit.objects.filter(org=org, api_key=key).delete()
    return bool(deleted)
