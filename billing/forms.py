"""Dashboard forms for money: top-ups, auto top-up and key spend limits.

Every amount goes through `UsdFormField` (core.money_input underneath), so the dashboard,
the management API and the gateway refuse the same inputs with the same rule.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings

from billing.models import LimitPeriod
from billing.services.spend_limits import MAX_SPEND_LIMIT_USD
from core.money import cents_to_nanos, nanos_to_cents, nanos_to_usd
from marketplace.fields import UsdFormField

# An auto top-up fires when the available balance drops below this; $1M is above any wallet's
# working balance and keeps the column far inside int64.
MAX_THRESHOLD_USD = 1_000_000
PERIOD_CHOICE = f"period must be one of {', '.join(LimitPeriod.values)}."


def cents(nanos: int | None) -> int:
    """Whole cents of an amount the form already checked is in whole cents."""
    return nanos_to_cents(nanos or 0)


def _top_up_max_usd() -> Decimal:
    return nanos_to_usd(cents_to_nanos(settings.TOPUP_MAX_CENTS))


class TopUpForm(forms.Form):
    """A top-up amount in whole cents; the service checks it against TOPUP_MIN/MAX_CENTS."""

    amount = UsdFormField(max_usd=0, places=2,
                          error_messages={"required": "Enter an amount in dollars, like 25.00."})
    payment_method = forms.CharField(required=False, max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].bounds["max_usd"] = _top_up_max_usd()


class AutoTopUpForm(forms.Form):
    enabled = forms.BooleanField(required=False)
    threshold = UsdFormField(max_usd=MAX_THRESHOLD_USD, places=2, noun="threshold",
                             required=False)
    amount = UsdFormField(max_usd=0, places=2, required=False)
    payment_method = forms.CharField(required=False, max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].bounds["max_usd"] = _top_up_max_usd()


class SpendLimitForm(forms.Form):
    limit = UsdFormField(max_usd=MAX_SPEND_LIMIT_USD, noun="limit",
                         error_messages={"required": "Enter a limit in dollars, like 25.00."})
    period = forms.ChoiceField(choices=LimitPeriod.choices, error_messages={
        "invalid_choice": PERIOD_CHOICE, "required": PERIOD_CHOICE})


class BillingDetailsForm(forms.Form):
    """What invoices print; finance members edit it (tenancy's update_billing_details)."""

    legal_name = forms.CharField(max_length=200, required=False, label="Legal name",
                                 help_text="Printed on invoices instead of the org's name.")
    billing_address = forms.CharField(required=False, max_length=1000, label="Billing address",
                                      widget=forms.Textarea(attrs={"rows": 4}))
    tax_id = forms.CharField(max_length=64, required=False, label="Tax ID",
                             help_text="VAT, GST or EIN number, e.g. DE123456789.")
    billing_email = forms.EmailField(required=False, label="Billing email")
