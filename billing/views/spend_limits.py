"""The dashboard page for one API key's spend limit (owners and admins).

The same services back `PUT/DELETE /api/v1/billing/keys/<id>/spend-limit`; the hot path
enforces the limit in the same atomic admission as the wallet.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from billing.forms import SpendLimitForm
from billing.models import LimitPeriod
from billing.selectors.spend import get_key_spend_limit, get_key_usage
from billing.services.spend_limits import clear_key_spend_limit, set_key_spend_limit
from core.errors import InvalidRequest
from marketplace.tenancy.current_org import org_member_required
from marketplace.tenancy.roles import SETTINGS_EDITORS
from marketplace.tenancy.selectors import access_api_key


@org_member_required(roles=SETTINGS_EDITORS)
def key_spend_limit(request: HttpRequest, key_id: int) -> HttpResponse:
    org = request.org
    key = access_api_key(org, key_id)  # another org's key: 404, same as a missing one
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            if "clear" in request.POST:
                clear_key_spend_limit(org=org, key_id=key.pk, actor=request.actor)
                messages.success(request, f"Removed the spend limit of “{key.name}”.")
                return redirect("billing:key-spend-limit", key_id=key.pk)
            form = SpendLimitForm(request.POST)
            if form.is_valid():
                set_key_spend_limit(
                    org=org, key_id=key.pk, limit_nanos=form.cleaned_data["limit"],
                    period=form.cleaned_data["period"], actor=request.actor,
                )
                messages.success(request, f"Saved the spend limit of “{key.name}”.")
                return redirect("billing:key-spend-limit", key_id=key.pk)
            errors.update({name: problems[0] for name, problems in form.errors.items()})
        except InvalidRequest as exc:
            errors[exc.metadata.get("param", "limit")] = exc.message
    return render(
        request,
        "billing/key_spend_limit.html",
        {
            "key": key,
            "limit": get_key_spend_limit(org.pk, key.pk),
            "usage": get_key_usage(org.pk, key.pk),
            "periods": LimitPeriod.choices,
            "errors": errors,
            "form": request.POST if errors else {},
        },
        status=400 if errors else 200,
    )
