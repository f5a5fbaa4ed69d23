"""Changing an org's alert rules (owners and admins; one transaction, one audit entry)."""

from __future__ import annotations

from django.db import transaction

from billing.services.low_balance import set_low_balance_threshold
from core.errors import InvalidRequest
from core.money import dashboard_usd, usd_to_nanos
from marketplace.tenancy.audit import record_audit
from marketplace.tenancy.models import Organization
from marketplace.tenancy.roles import SETTINGS_EDITORS, Actor, require_role
from observability.alerts.rules import (
    MAX_DAILY_SPEND_USD,
    MAX_MIN_REQUESTS,
    MONEY_KINDS,
    PERCENT_KINDS,
    EffectiveRule,
    default_rule,
)
from observability.alerts.selectors import list_rules
from observability.models import AlertKind, AlertRule

MAX_DAILY_SPEND_NANOS = usd_to_nanos(MAX_DAILY_SPEND_USD)


def _state(row: AlertRule) -> dict:
    state: dict = {"enabled": row.enabled}
    if row.kind == AlertKind.DAILY_SPEND:
        state["threshold_nanos"] = row.threshold_nanos
    if row.kind in PERCENT_KINDS:
        state["threshold_percent"] = row.threshold_percent
    if row.kind == AlertKind.ERROR_RATE:
        state["min_requests"] = row.min_requests
    return state


def _check(kind: str, *, threshold_nanos: int | None, threshold_percent: int | None,
           min_requests: int | None) -> None:
    if kind not in AlertKind.values:
        raise InvalidRequest(
            f"Unknown alert kind; use one of {', '.join(AlertKind.values)}.", param="kind")
    if threshold_nanos is not None and kind not in MONEY_KINDS:
        raise InvalidRequest("This alert's threshold is a percentage.", param="threshold_usd")
    if threshold_percent is not None and kind not in PERCENT_KINDS:
        raise InvalidRequest("This alert's threshold is an amount in dollars.",
                             param="threshold_percent")
    if min_requests is not None and kind != AlertKind.ERROR_RATE:
        raise InvalidRequest("Only the error-rate alert has a minimum of requests.",
                             param="min_requests")
    if threshold_percent is not None and not (
            isinstance(threshold_percent, int) and 1 <= threshold_percent <= 100):
        raise InvalidRequest("The threshold must be a whole percentage from 1 to 100.",
                             param="threshold_percent")
    if min_requests is not None and not (
            isinstance(min_requests, int) and 1 <= min_requests <= MAX_MIN_REQUESTS):
        raise InvalidRequest(f"The minimum must be from 1 to {MAX_MIN_REQUESTS:,} requests.",
                             param="min_requests")
    if kind == AlertKind.DAILY_SPEND and threshold_nanos is not None and not (
            isinstance(threshold_nanos, int) and 0 < threshold_nanos <= MAX_DAILY_SPEND_NANOS):
        raise InvalidRequest(
            "The daily spend threshold must be more than $0.00 and at most "
            f"{dashboard_usd(MAX_DAILY_SPEND_NANOS)}.", param="threshold_usd")


@transaction.atomic
def set_alert_rule(*, org: Organization, kind: str, actor: Actor, enabled: bool | None = None,
                   threshold_nanos: int | None = None, threshold_percent: int | None = None,
                   min_requests: int | None = None) -> EffectiveRule:
    """Create or change the org's rule of `kind`; fields left None keep their value.

    The low-balance threshold is the wallet's (billing's service changes it and writes its own
    audit entry). A change of the rule writes `alert_rule.changed` with before and after; a
    save that changes nothing writes nothing.
    """
    require_role(actor, SETTINGS_EDITORS, "Only owners and admins can change alerts.")
    _check(kind, threshold_nanos=threshold_nanos, threshold_percent=threshold_percent,
           min_requests=min_requests)
    row = AlertRule.objects.select_for_update().filter(org=org, kind=kind).first()
    before = _state(row) if row is not None else None
    if row is None:
        default = default_rule(kind)
        row = AlertRule(org=org, kind=kind, enabled=default.enabled,
                        threshold_percent=default.threshold_percent,
                        min_requests=default.min_requests)
    if enabled is not None:
        row.enabled = bool(enabled)
    if threshold_percent is not None:
        row.threshold_percent = threshold_percent
    if min_requests is not None:
        row.min_requests = min_requests
    if kind == AlertKind.DAILY_SPEND:
        if threshold_nanos is not None:
            row.threshold_nanos = threshold_nanos
        if row.enabled and not row.threshold_nanos:
            raise InvalidRequest("Set a daily spend threshold to turn this alert on.",
                                 param="threshold_usd")
    if kind == AlertKind.LOW_BALANCE and threshold_nanos is not None:
        try:
            set_low_balance_threshold(org=org, threshold_nanos=threshold_nanos, actor=actor)
        except InvalidRequest as error:
            raise InvalidRequest(error.message, param="threshold_usd") from None
    after = _state(row)
    if after != before:
        row.save()
        record_audit(org=org, action="alert_rule.changed", actor=actor, target=row,
                     target_label=kind, before=before or {}, after=after)
    return next(rule for rule in list_rules(org.pk) if rule.kind == kind)
