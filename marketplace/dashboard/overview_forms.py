"""Forms of the overview, keys and low-balance pages: parse and bound; services decide."""

from __future__ import annotations

from django import forms

from billing.services.low_balance import MAX_THRESHOLD_USD
from marketplace.fields import UsdFormField


class FirstKeyForm(forms.Form):
    name = forms.CharField(max_length=100, initial="My first key", label="Key name",
                           help_text="Where the key is used, e.g. “laptop”.")


class RenameKeyForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name")


class LowBalanceThresholdForm(forms.Form):
    threshold = UsdFormField(
        max_usd=MAX_THRESHOLD_USD, places=2, noun="threshold", label="Warn below (USD)",
        help_text="The dashboard shows a banner, and owners and finance members get an "
                  "email, when the available balance falls below this; 0 turns it off.",
        error_messages={"required": "Enter a threshold in dollars, like 5.00."},
    )
