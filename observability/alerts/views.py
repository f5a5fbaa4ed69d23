"""`/dashboard/alerts/`: every member sees the rules and the open and recent alerts; owners and
admins change the rules (one form per kind; a bad value is a form error on its field)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.errors import InvalidRequest
from marketplace.tenancy.current_org import forbidden, org_member_required
from marketplace.tenancy.roles import SETTINGS_EDITORS
from observability.alerts.forms import FORMS, initial_of
from observability.alerts.rules import ERROR_RATE_WINDOW, threshold_text
from observability.alerts.selectors import list_events, list_rules
from observability.alerts.services import set_alert_rule
from observability.models import AlertKind

PAGE = "/dashboard/alerts/"


def _add_error(form, error: InvalidRequest) -> None:
    field = error.metadata.get("param")
    form.add_error(field if field in form.fields else None, error.message)


@org_member_required
@require_http_methods(["GET", "POST"])
def alerts(request):
    can_edit = request.membership.role in SETTINGS_EDITORS
    posted_kind = request.POST.get("kind") if request.method == "POST" else None
    if request.method == "POST":
        if not can_edit:
            return forbidden(request, "Only owners and admins can change alerts.")
        if posted_kind not in FORMS:
            messages.error(request, "Choose one of the alerts below to change.")
            return redirect(PAGE)
    rules = list_rules(request.org.pk)
    forms = {}
    for rule in rules:
        form_class = FORMS[rule.kind]
        if rule.kind == posted_kind:
            forms[rule.kind] = form_class(request.POST, prefix=rule.kind)
        else:
            forms[rule.kind] = form_class(prefix=rule.kind, initial=initial_of(rule))
    if posted_kind is not None:
        form = forms[posted_kind]
        if form.is_valid():
            data = form.cleaned_data
            try:
                set_alert_rule(
                    org=request.org, kind=posted_kind, actor=request.actor,
                    enabled=data["enabled"], threshold_nanos=data.get("threshold_usd"),
                    threshold_percent=data.get("threshold_percent"),
                    min_requests=data.get("min_requests"))
            except InvalidRequest as error:
                _add_error(form, error)
            else:
                messages.success(request, f"{AlertKind(posted_kind).label} alert saved.")
                return redirect(PAGE)
    rows = [{"rule": rule, "label": AlertKind(rule.kind).label, "form": forms[rule.kind],
             "threshold": threshold_text(rule.kind, rule.threshold_nanos,
                                         rule.threshold_percent)}
            for rule in rules]
    events = list_events(request.org.pk)
    return render(request, "observability/alerts.html", {
        "rows": rows, "events": events, "can_edit": can_edit,
        "window_minutes": int(ERROR_RATE_WINDOW.total_seconds() // 60),
    }, status=400 if posted_kind and forms[posted_kind].errors else 200)
