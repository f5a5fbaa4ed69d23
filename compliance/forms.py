"""Dashboard forms for the org's and a key's policy: parse what was typed; the services decide.

Providers and regions are checkboxes from the catalog, models a comma or line separated list
(the catalog has hundreds). A name the current version holds stays a choice even after the
catalog drops it, so saving the form as shown never fails on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms

from compliance.selectors import PolicyChoices
from compliance.services import MAX_KEY_RPM, MAX_KEY_TPM, MAX_RETENTION_DAYS
from marketplace.fields import BoundedIntFormField

_SEPARATORS = re.compile(r"[\s,]+")
NO_RESTRICTION = "None ticked: no restriction."


class NameListField(forms.CharField):
    """Names separated by commas or whitespace, as a list (None when empty)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value):
        text = super().to_python(value)
        names = [name for name in _SEPARATORS.split(text or "") if name]
        return names or None

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value


def _checkboxes(label: str, help_text: str = NO_RESTRICTION) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(label=label, required=False, help_text=help_text,
                                     widget=forms.CheckboxSelectMultiple)


def _choices(known: Mapping[str, str] | Iterable[str], *held: Any) -> list[tuple[str, str]]:
    labels = dict(known) if isinstance(known, Mapping) else {name: name for name in known}
    for names in held:
        for name in names or ():
            labels.setdefault(name, name)
    return sorted(((slug, f"{label} ({slug})" if label != slug else slug)
                   for slug, label in labels.items()), key=lambda choice: choice[0])


class _PolicyForm(forms.Form):
    def __init__(self, *args, editable: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not editable:
            for field in self.fields.values():
                field.disabled = True

    def policy_fields(self) -> dict[str, Any]:
        """The cleaned values under the services' field names."""
        return dict(self.cleaned_data)


class OrgPolicyForm(_PolicyForm):
    provider_allow = _checkboxes("Allowed providers")
    provider_deny = _checkboxes("Denied providers", "Never routed to, whatever else allows.")
    model_allow = NameListField(
        label="Allowed models", required=False,
        help_text="Model slugs such as openai/gpt-4o, separated by commas or new lines. "
        "Empty: no restriction.")
    model_deny = NameListField(label="Denied models", required=False,
                               help_text="Model slugs the organization may not call.")
    regions = _checkboxes("Allowed regions", "Endpoints must run in one of these (for example "
                          "only eu). None ticked: any region.")
    require_zdr = forms.BooleanField(
        label="Require zero data retention", required=False,
        help_text="Only providers that keep no prompts. Content logging must then stay off.")
    deny_training = forms.BooleanField(label="No providers that train on prompts",
                                       required=False)
    fallbacks_outside_preferred = forms.BooleanField(
        label="Fallbacks may leave a request's preferred providers", required=False)
    content_logging = forms.BooleanField(
        label="Keep request and response content", required=False,
        help_text="Off by default: no content is stored.")
    content_retention_days = BoundedIntFormField(
        low=1, high=MAX_RETENTION_DAYS, label="Keep content for (days)", required=False,
        help_text=f"1 to {MAX_RETENTION_DAYS} days; content is deleted after that.")

    def __init__(self, *args, choices: PolicyChoices, current: Mapping[str, Any], **kwargs):
        super().__init__(*args, **kwargs)
        providers = _choices(choices.providers, current["provider_allow"],
                             current["provider_deny"])
        self.fields["provider_allow"].choices = providers
        self.fields["provider_deny"].choices = providers
        self.fields["regions"].choices = _choices(choices.regions, current["regions"])

    @staticmethod
    def initial_from(values: Mapping[str, Any]) -> dict[str, Any]:
        return {**values, "content_logging": values["content_retention_days"] is not None}

    def clean(self):
        data = super().clean()
        if data.get("content_logging"):
            if data.get("content_retention_days") is None and \
                    "content_retention_days" not in self.errors:
                self.add_error("content_retention_days",
                               "Enter how many days to keep content.")
        else:
            data["content_retention_days"] = None
        return data

    def policy_fields(self) -> dict[str, Any]:
        fields = dict(self.cleaned_data)
        fields.pop("content_logging", None)
        return fields


class KeyPolicyForm(_PolicyForm):
    allowed_providers = _checkboxes("Allowed providers",
                                    "Within the organization's policy. " + NO_RESTRICTION)
    allowed_models = NameListField(
        label="Allowed models", required=False,
        help_text="Model slugs, separated by commas or new lines. Empty: no restriction.")
    allowed_regions = _checkboxes("Allowed regions")
    rpm = BoundedIntFormField(low=1, high=MAX_KEY_RPM, label="Requests per minute",
                              required=False, help_text="Empty: the operator's default.")
    tpm = BoundedIntFormField(low=1, high=MAX_KEY_TPM, label="Tokens per minute",
                              required=False, help_text="Empty: the operator's default.")

    def __init__(self, *args, choices: PolicyChoices, current: Mapping[str, Any], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["allowed_providers"].choices = _choices(choices.providers,
                                                            current["allowed_providers"])
        self.fields["allowed_regions"].choices = _choices(choices.regions,
                                                          current["allowed_regions"])
