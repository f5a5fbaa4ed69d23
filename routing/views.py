"""Routing's pages: the route explainer and the staff provider-health page.

The explainer (what `POST /api/v1/routing/explain/` answers, as a form) is for owners, admins
and developers; the same selector backs the API, and both run the gateway's own selection code
(routing/explain.py). The health page is for staff who passed a second factor.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import InvalidRequest
from marketplace.tenancy.current_org import org_member_required
from marketplace.tenancy.roles import KEY_CREATORS
from marketplace.tenancy.selectors import list_api_keys
from marketplace.tenancy.staff_access import staff_page
from routing.forms import ExplainForm, ProviderHealthForm
from routing.provider_health import (
    DEFAULT_WINDOW,
    SORTS,
    WINDOW_LABELS,
    WORST,
    build_report,
    provider_choices,
)
from routing.selectors import explain_route, explanation_payload


@org_member_required(roles=KEY_CREATORS)
def explain(request: HttpRequest) -> HttpResponse:
    org = request.org
    keys = [(k.pk, f"{k.name} ({k.prefix}…)") for k in list_api_keys(org, include_revoked=False)]
    submitted = "model" in request.GET
    form = ExplainForm(request.GET if submitted else None, keys=keys)
    result = None
    if submitted and form.is_valid():
        data = form.cleaned_data
        try:
            result = explanation_payload(explain_route(
                org, model=data["model"], provider=data["provider"], key_id=data["key"]))
        except InvalidRequest as exc:
            param = exc.metadata.get("param", "")
            field = "provider" if param.startswith("provider") else \
                "model" if param == "model" else None
            form.add_error(field, exc.message)
    return render(request, "routing/explain.html", {"form": form, "result": result},
                  status=400 if submitted and form.errors else 200)


@staff_page
def provider_health(request: HttpRequest) -> HttpResponse:
    """Staff: every endpoint's latency, throughput, uptime and errors, and open breakers."""
    sorts = [(WORST, "Worst first"), *((k, v[0]) for k, v in SORTS.items())]
    form = ProviderHealthForm(request.GET or None, providers=provider_choices(), sorts=sorts,
                              initial={"window": DEFAULT_WINDOW})
    report = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        report = build_report(provider_slug=data.get("provider") or None,
                              sort=data.get("sort") or WORST,
                              window=data.get("window") or DEFAULT_WINDOW)
    return render(request, "routing/provider_health.html",
                  {"form": form, "report": report, "windows": WINDOW_LABELS.items()},
                  status=400 if form.errors else 200)
