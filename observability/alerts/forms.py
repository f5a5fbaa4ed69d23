"""The alerts page's forms, one per kind (prefixed by it): parse and bound; the service decides."""

from __future__ import annotations

from django import forms

from billing.services.low_balance import MAX_THRESHOLD_USD
from core.money import api_usd
from marketplace.fields import BoundedIntFormField, UsdFormField
from observability.alerts.rules import MAX_DAILY_SPEND_USD, MAX_MIN_REQUESTS, EffectiveRule
from observability.models import AlertKind


class _RuleForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="On")


class LowBalanceAlertForm(_RuleForm):
    threshold_usd = UsdFormField(
        max_usd=MAX_THRESHOLD_USD, places=2, noun="threshold", label="Alert below (USD)",
        help_text="The organization's low-balance threshold (the same one as Settings → "
                  "Low-balance warning); 0 turns it off.",
        error_messages={"required": "Enter a threshold in dollars, like 5.00."})


class DailySpendAlertForm(_RuleForm):
    threshold_usd = UsdFormField(
        max_usd=MAX_DAILY_SPEND_USD, places=2, noun="threshold", required=False,
        label="Alert at or above (USD per UTC day)")


class ErrorRateAlertForm(_RuleForm):
    threshold_percent = BoundedIntFormField(
        low=1, high=100, label="Alert at or above (% of requests, last 15 minutes)",
        error_messages={"required": "Enter a percentage from 1 to 100."})
    min_requests = BoundedIntFormField(
        low=1, high=MAX_MIN_REQUESTS, label="Only with at least (requests in 15 minutes)",
        help_text="So one failed request out of one pages nobody.",
        error_messages={"required": "Enter a number of requests, like 20."})


class KeySpendAlertForm(_RuleForm):
    threshold_percent = BoundedIntFormField(
        low=1, high=100, label="Alert at or above (% of a key's spend limit)",
        help_text="Every key with a spend limit, in its limit's period.",
        error_messages={"required": "Enter a percentage from 1 to 100."})


FORMS: dict[str, type[_RuleForm]] = {
    AlertKind.LOW_BALANCE: LowBalanceAlertForm,
    AlertKind.DAILY_SPEND: DailySpendAlertForm,
    AlertKind.ERROR_RATE: ErrorRateAlertForm,
    AlertKind.KEY_SPEND: KeySpendAlertForm,
}


def initial_of(rule: EffectiveRule) -> dict:
    initial: dict = {"enabled": rule.enabled}
    if rule.kind in (AlertKind.LOW_BALANCE, AlertKind.DAILY_SPEND):
        initial["threshold_usd"] = (api_usd(rule.threshold_nanos)
                                    if rule.threshold_nanos is not None else "")
    if rule.kind in (AlertKind.ERROR_RATE, AlertKind.KEY_SPEND):
        initial["threshold_percent"] = rule.threshold_percent
    if rule.kind == AlertKind.ERROR_RATE:
        initial["min_requests"] = rule.min_requests
    return initial
