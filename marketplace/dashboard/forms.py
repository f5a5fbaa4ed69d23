"""Dashboard forms: parse and validate input; the services decide and write."""

from __future__ import annotations

import datetime as dt

from django import forms

from core.errors import SwitchyardError
from marketplace.tenancy.models import KeyScope, OrgKind, Role
from marketplace.tenancy.roles import MANAGEMENT_KEY_CREATORS


def add_service_error(form: forms.Form, error: SwitchyardError) -> None:
    """Show a service error on its field when it names one, else on the form."""
    field = error.metadata.get("param")
    form.add_error(field if field in form.fields else None, error.message)


class CreateOrganizationForm(forms.Form):
    name = forms.CharField(max_length=120, label="Organization name")


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where the key is used, e.g. “staging”.")
    scope = forms.ChoiceField(choices=KeyScope.choices, initial=KeyScope.INFERENCE)
    expires_on = forms.DateField(
        required=False,
        label="Expires on (optional)",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The key stops working at 00:00 UTC that day.",
    )

    def __init__(self, *args, role: str, **kwargs):
        super().__init__(*args, **kwargs)
        if role not in MANAGEMENT_KEY_CREATORS:
            self.fields["scope"].choices = [(KeyScope.INFERENCE, KeyScope.INFERENCE.label)]

    def expires_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("expires_on")
        return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) if day else None


def _role_choices(actor_role: str):
    # Only owners hand out ownership; the service enforces the same rule.
    return [(value, label) for value, label in Role.choices
            if value != Role.OWNER or actor_role == Role.OWNER]


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.DEVELOPER)

    def __init__(self, *args, actor_role: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(actor_role)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class OrganizationSettingsForm(forms.Form):
    name = forms.CharField(max_length=120, label="Organization name")
    legal_name = forms.CharField(max_length=200, required=False)
    billing_address = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Billing address"
    )
    tax_id = forms.CharField(max_length=64, required=False, label="Tax ID (e.g. VAT number)")
    billing_email = forms.EmailField(required=False, label="Billing email")

    def __init__(self, *args, editable: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not editable:
            for field in self.fields.values():
                field.disabled = True


class OrganizationKindForm(forms.Form):
    kind = forms.ChoiceField(
        choices=OrgKind.choices,
        label="Kind of organization",
        help_text="Vendors promote their models with sponsored listings; developers use "
        "models; an organization can be both.",
    )

    def __init__(self, *args, editable: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].disabled = not editable
