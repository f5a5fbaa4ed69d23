"""The route explainer's form: a model, an optional key of the org, optional preferences."""

from __future__ import annotations

import json
from typing import Any

from django import forms

PREFERENCES_MAX_CHARS = 10_000


class ExplainForm(forms.Form):
    model = forms.CharField(max_length=200, label="Model",
                            help_text="A model id, e.g. openai/gpt-4o-mini.")
    key = forms.TypedChoiceField(required=False, coerce=int, empty_value=None,
                                 label="API key",
                                 help_text="Apply this key's policy too (optional).")
    provider = forms.CharField(
        required=False, max_length=PREFERENCES_MAX_CHARS, label="Provider preferences (JSON)",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": '{"order": ["sandbox-eu"]}'}),
        help_text="OpenRouter's provider object, as a request would send it (optional).")

    def __init__(self, *args: Any, keys: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = [("", "No key: the organization's policy only"), *keys]

    def clean_provider(self) -> Any:
        text = self.cleaned_data["provider"].strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError("Enter a JSON object, e.g. {\"sort\": \"price\"}.") \
                from None
        if not isinstance(value, dict):
            raise forms.ValidationError("Enter a JSON object, e.g. {\"sort\": \"price\"}.")
        return value


class ProviderHealthForm(forms.Form):
    """The staff health page's filter and order; every field optional."""

    provider = forms.ChoiceField(required=False, label="Provider")
    window = forms.ChoiceField(required=False, label="Order by window",
                               choices=[("5m", "5 minutes"), ("1h", "1 hour"), ("1d", "1 day")])
    sort = forms.ChoiceField(required=False, label="Order by")

    def __init__(self, *args: Any, providers: list[tuple[str, str]],
                 sorts: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [("", "All providers"), *providers]
        self.fields["sort"].choices = sorts
