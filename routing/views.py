"""The route explainer page: what `POST /api/v1/routing/explain/` answers, as a form.

Owners, admins and developers; the same selector backs the API, and both run the gateway's
own selection code (routing/explain.py).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import InvalidRequest
from marketplace.tenancy.current_org import org_member_required
from marketplace.tenancy.roles import KEY_CREATORS
from marketplace.tenancy.selectors import list_api_keys
from routing.forms import ExplainForm
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
