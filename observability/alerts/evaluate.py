"""The periodic evaluation of every org's alerts (`observability.tasks.evaluate_alerts`).

One run costs a handful of queries whatever the number of orgs: the saved rules, the open
events, the org ids and the low balances, today's spend of orgs with a daily-spend rule, the
last 15 minutes of request records grouped by org, and every key limit; then one statement
closes what cleared and one opens what crossed. Only crossings cost more (the email and its
recipients).

Once per crossing: an event opens when a condition becomes true and stays open while it holds
(later runs see it open and do nothing); when the condition stops it is closed, and the next
crossing opens a new event. Two runs at once cannot open one crossing twice (partial unique
constraints on the open event) nor email it twice (`notified_at` is claimed by a conditional
UPDATE; the run whose UPDATE changed the row sends). The open events are read before the
conditions are computed, so a run never closes an event another run opened after it looked.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q, Sum
from django.utils import timezone

from billing.selectors.alerts import (
    get_spend_today_by_org,
    list_key_limit_usage,
    list_low_balances,
)
from marketplace.tenancy.models import Role
from marketplace.tenancy.selectors import list_members, list_org_ids
from observability.alerts.rules import (
    ERROR_RATE_WINDOW,
    EffectiveRule,
    describe,
    effective_rule,
    share_bps,
)
from observability.alerts.selectors import forget_open_alerts
from observability.models import FAILED, REFUSED, AlertEvent, AlertKind, AlertRule, RequestRecord

logger = logging.getLogger(__name__)

ALERTS_PAGE = "/dashboard/alerts/"
RECIPIENT_ROLES = frozenset({Role.OWNER, Role.FINANCE})

Subject = tuple[int, str, int | None]  # (org_id, kind, key_id)


@dataclass(frozen=True, slots=True)
class Condition:
    value: int
    threshold: int
    detail: dict = field(default_factory=dict)


def _rules() -> dict[tuple[int, str], AlertRule]:
    return {(row.org_id, row.kind): row for row in AlertRule.objects.all()}


def _rule(rows: dict, org_id: int, kind: str) -> EffectiveRule:
    return effective_rule(kind, rows.get((org_id, kind)))


def _low_balances(rows: dict) -> dict[Subject, Condition]:
    off = {org_id for (org_id, kind), row in rows.items()
           if kind == AlertKind.LOW_BALANCE and not row.enabled}
    org_ids = set(list_org_ids()) - off
    return {(org_id, AlertKind.LOW_BALANCE, None): Condition(
                balance.available_nanos, balance.low_balance_threshold_nanos)
            for org_id, balance in list_low_balances(org_ids).items()}


def _daily_spend(rows: dict, now: dt.datetime) -> dict[Subject, Condition]:
    thresholds = {}
    for (org_id, kind), row in rows.items():
        if kind == AlertKind.DAILY_SPEND:
            rule = effective_rule(kind, row)
            if rule.active:
                thresholds[org_id] = rule.threshold_nanos
    spend = get_spend_today_by_org(thresholds, now=now)
    return {(org_id, AlertKind.DAILY_SPEND, None): Condition(spent, thresholds[org_id])
            for org_id, spent in spend.items() if spent >= thresholds[org_id]}


def _error_rates(rows: dict, now: dt.datetime) -> dict[Subject, Condition]:
    since = now - ERROR_RATE_WINDOW
    # A row's recorded_at (insert time) is never before its created_at, so the recorded_at
    # bound finds every row of the window on its index; the created_at bound keeps the window
    # exact and lets PostgreSQL prune to the current month's partitions.
    totals = (RequestRecord.objects.filter(recorded_at__gte=since, created_at__gte=since)
              .values("org_id")
              .annotate(requests=Sum("count"),
                        errors=Sum("count", filter=Q(outcome__in=(FAILED, REFUSED))))
              .order_by())
    found = {}
    for row in totals:
        rule = _rule(rows, row["org_id"], AlertKind.ERROR_RATE)
        requests, errors = row["requests"] or 0, row["errors"] or 0
        if not rule.active or requests < (rule.min_requests or 1):
            continue
        rate = share_bps(errors, requests)
        threshold = rule.threshold_percent * 100
        if rate >= threshold:
            found[(row["org_id"], AlertKind.ERROR_RATE, None)] = Condition(
                rate, threshold, {"requests": requests, "errors": errors})
    return found


def _key_spend(rows: dict, now: dt.datetime) -> dict[Subject, Condition]:
    found = {}
    for usage in list_key_limit_usage(now=now):
        rule = _rule(rows, usage.org_id, AlertKind.KEY_SPEND)
        if not rule.active:
            continue
        share = share_bps(usage.spent_nanos, usage.limit_nanos)
        threshold = rule.threshold_percent * 100
        if share >= threshold:
            found[(usage.org_id, AlertKind.KEY_SPEND, usage.key_id)] = Condition(
                share, threshold,
                {"key_name": usage.key_name, "key_prefix": usage.key_prefix,
                 "limit_nanos": usage.limit_nanos, "spent_nanos": usage.spent_nanos,
                 "period": usage.period})
    return found


def current_conditions(now: dt.datetime) -> dict[Subject, Condition]:
    """Every (org, kind, key) whose alert condition holds now, with what was seen."""
    rows = _rules()
    found: dict[Subject, Condition] = {}
    found.update(_low_balances(rows))
    found.update(_daily_spend(rows, now))
    found.update(_error_rates(rows, now))
    found.update(_key_spend(rows, now))
    return found


def evaluate_alerts(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Open events for new crossings, close cleared ones, email the unnotified; return counts."""
    now = now or timezone.now()
    open_events = {(e.org_id, e.kind, e.key_id): e.pk
                   for e in AlertEvent.objects.filter(cleared_at__isnull=True)
                   .only("id", "org_id", "kind", "key_id")}
    conditions = current_conditions(now)
    gone = [subject for subject in open_events if subject not in conditions]
    cleared = [open_events[subject] for subject in gone]
    if cleared:
        AlertEvent.objects.filter(pk__in=cleared, cleared_at__isnull=True).update(cleared_at=now)
    new = [AlertEvent(org_id=org_id, kind=kind, key_id=key_id, fired_at=now,
                      value=condition.value, threshold=condition.threshold,
                      detail=condition.detail)
           for (org_id, kind, key_id), condition in conditions.items()
           if (org_id, kind, key_id) not in open_events]
    if new:
        # Another run may have opened the same crossing meanwhile: the constraint keeps one.
        AlertEvent.objects.bulk_create(new, ignore_conflicts=True)
    changed = {org_id for org_id, _, _ in gone} | {event.org_id for event in new}
    forget_open_alerts(changed)
    sent = notify_open_events(now=now)
    return {"fired": len(new), "cleared": len(cleared), "emailed": sent}


def notify_open_events(*, now: dt.datetime) -> int:
    """Email each open event nobody emailed yet, once; return how many were sent."""
    pending = list(AlertEvent.objects.filter(cleared_at__isnull=True, notified_at__isnull=True)
                   .select_related("org").order_by("id"))
    sent = 0
    recipients: dict[int, list[str]] = {}
    for event in pending:
        # The claim: of two runs, only the one whose UPDATE changed the row sends.
        if not AlertEvent.objects.filter(pk=event.pk, notified_at__isnull=True).update(
                notified_at=now):
            continue
        if event.org_id not in recipients:
            recipients[event.org_id] = sorted({
                m.user.email for m in list_members(event.org)
                if m.role in RECIPIENT_ROLES and m.user.email})
        to = recipients[event.org_id]
        if not to:
            continue
        try:
            _send(event, to)
        except Exception:
            # Let a later run try again (the claim is released); the log has the cause.
            logger.exception("alert email for event %s not sent", event.pk)
            AlertEvent.objects.filter(pk=event.pk).update(notified_at=None)
            continue
        sent += 1
    return sent


def _send(event: AlertEvent, to: list[str]) -> None:
    words = describe(event)
    org = event.org.name
    url = settings.PUBLIC_URL.rstrip("/") + ALERTS_PAGE
    body = (
        f"{words.title} in {org}.\n\n"
        f"{words.message}\n\n"
        f"Alert: {AlertKind(event.kind).label}\n"
        f"Value: {words.value}\n"
        f"Threshold: {words.threshold}\n"
        f"Since: {event.fired_at:%Y-%m-%d %H:%M} UTC\n\n"
        f"The alert shows in the dashboard until it clears: {url}\n"
        "(Switch to this organization there if it is not your current one.)\n\n"
        "You receive this as an owner or finance member of the organization. Owners and "
        "admins change the thresholds on the alerts page.\n"
    )
    # One line: a header cannot hold a newline (an org or key name is the user's text).
    subject = " ".join(f"[Switchyard] {org}: {words.title} ({words.value}, threshold "
                       f"{words.threshold})".split())
    send_mail(subject=subject, message=body, from_email=None, recipient_list=to)
