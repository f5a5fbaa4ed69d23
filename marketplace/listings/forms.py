"""The vendor pages' forms: parse and bound input (money through the one parser); the services
decide and write."""

from __future__ import annotations

from django import forms

from catalog.listing import CAPABILITIES
from core.errors import SwitchyardError
from core.money import api_usd
from core.task_labels import LABELS
from marketplace.fields import UsdFormField
from marketplace.listings.models import Campaign, Placement, Pricing
from marketplace.listings.services import (
    MAX_BID_USD,
    MAX_BUDGET_USD,
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
)


# The services name the field in error by these form fields' names (bid_usd, ...).
def add_service_error(form: forms.Form, error: SwitchyardError) -> None:
    """Show a service error on its field when it names one, else on the form."""
    field = error.metadata.get("param")
    form.add_error(field if field in form.fields else None, error.message)


_DATE = forms.DateInput(attrs={"type": "date"})
_TASK_CHOICES = [(label, label.replace("_", " ").capitalize()) for label in LABELS]
_CAPABILITY_CHOICES = [(c, c.replace("_", " ")) for c in CAPABILITIES]


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=MAX_NAME_CHARS)
    model = forms.ChoiceField(help_text="One of the models staff verified you may promote.")
    pricing = forms.ChoiceField(choices=Pricing.choices, widget=forms.RadioSelect,
                                initial=Pricing.CPM)
    placements = forms.MultipleChoiceField(choices=Placement.choices,
                                           widget=forms.CheckboxSelectMultiple)
    target_tasks = forms.MultipleChoiceField(
        choices=_TASK_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
        label="Target tasks", help_text="None ticked: any task.")
    target_capabilities = forms.MultipleChoiceField(
        choices=_CAPABILITY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
        label="Target capabilities", help_text="None ticked: any capability.")
    bid_usd = UsdFormField(max_usd=MAX_BID_USD, noun="bid", label="Bid (USD)",
                           help_text="Per thousand impressions (CPM) or per click (CPC).")
    daily_budget_usd = UsdFormField(max_usd=MAX_BUDGET_USD, noun="daily budget",
                                    label="Daily budget (USD)")
    total_budget_usd = UsdFormField(max_usd=MAX_BUDGET_USD, noun="total budget",
                                    label="Total budget (USD)")
    starts_on = forms.DateField(widget=_DATE, label="Starts on")
    ends_on = forms.DateField(widget=_DATE, required=False, label="Ends on (optional)",
                              help_text="Inclusive. Empty: until the budget is spent.")

    def __init__(self, *args, models: list[str], campaign: Campaign | None = None, **kwargs):
        if campaign is not None:
            kwargs.setdefault("initial", initial_of(campaign))
        super().__init__(*args, **kwargs)
        slugs = list(models)
        if campaign is not None and campaign.model.slug not in slugs:
            slugs.append(campaign.model.slug)
        self.fields["model"].choices = [(s, s) for s in slugs]
        if campaign is not None:
            # Fixed at creation: shown, not sent back (a disabled field keeps its initial).
            self.fields["model"].disabled = True
            self.fields["pricing"].disabled = True

    def service_values(self) -> dict:
        data = self.cleaned_data
        values = {field: data[field] for field in ("name", "placements", "target_tasks",
                                                   "target_capabilities", "starts_on",
                                                   "ends_on")}
        for field in ("bid", "daily_budget", "total_budget"):
            values[f"{field}_nanos"] = data[f"{field}_usd"]
        return values


def initial_of(campaign: Campaign) -> dict:
    return {
        "name": campaign.name, "model": campaign.model.slug, "pricing": campaign.pricing,
        "placements": campaign.placements, "target_tasks": campaign.target_tasks,
        "target_capabilities": campaign.target_capabilities,
        "bid_usd": api_usd(campaign.bid_nanos),
        "daily_budget_usd": api_usd(campaign.daily_budget_nanos),
        "total_budget_usd": api_usd(campaign.total_budget_nanos),
        "starts_on": campaign.starts_on, "ends_on": campaign.ends_on,
    }


class ListingEditForm(forms.Form):
    model = forms.ChoiceField()
    description = forms.CharField(max_length=MAX_DESCRIPTION_CHARS,
                                  widget=forms.Textarea(attrs={"rows": 6}))
    tags = forms.CharField(max_length=600, required=False,
                           help_text="Comma-separated, e.g. “extraction, long context”.")

    def __init__(self, *args, models: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [(s, s) for s in models]
