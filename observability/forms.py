"""The analytics page's form: a range (preset or custom dates), a bucket and a grouping."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from core.errors import InvalidRequest
from observability.analytics import AnalyticsQuery, parse_query

RANGES = {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7),
          "30d": dt.timedelta(days=30), "90d": dt.timedelta(days=90)}
RANGE_CHOICES = [("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days"),
                 ("90d", "Last 90 days"), ("custom", "Custom dates")]
GROUP_CHOICES = [("model", "Model"), ("provider", "Provider"), ("key", "API key"),
                 ("app", "App"), ("task", "Task")]


class AnalyticsForm(forms.Form):
    range = forms.ChoiceField(choices=RANGE_CHOICES, required=False, initial="7d")
    since = forms.DateField(required=False, label="From",
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To (included)",
                            widget=forms.DateInput(attrs={"type": "date"}))
    bucket = forms.ChoiceField(choices=[("", "Auto"), ("hour", "Hour"), ("day", "Day")],
                               required=False)
    group_by = forms.ChoiceField(choices=GROUP_CHOICES, required=False, initial="model",
                                 label="Break down by")

    def __init__(self, *args, capped: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.capped = capped  # the CSV export takes any range

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        chosen = data.get("range") or "7d"
        params: dict[str, str] = {"group_by": data.get("group_by") or "model"}
        if chosen == "custom":
            if not data.get("since") or not data.get("until"):
                raise forms.ValidationError("Custom dates need both From and To.")
            params["since"] = data["since"].isoformat()
            params["until"] = data["until"].isoformat()
            span = dt.timedelta(days=(data["until"] - data["since"]).days + 1)
        else:
            now = timezone.now()
            span = RANGES[chosen]
            params["since"] = (now - span).isoformat()
            params["until"] = now.isoformat()
        params["bucket"] = data.get("bucket") or ("hour" if span <= dt.timedelta(days=2)
                                                  else "day")
        try:
            data["query"] = parse_query(params, capped=self.capped)
        except InvalidRequest as error:
            field = error.metadata.get("param")
            field = field if field in ("since", "until", "bucket", "group_by") else None
            if chosen != "custom" and field in ("since", "until"):
                field = "range"
            self.add_error(field, error.message)
        return data

    def query(self) -> AnalyticsQuery:
        return self.cleaned_data["query"]
