"""Billing details (legal name, address, tax ID, billing email): what invoices print.

Owners, admins and finance edit them here; the org's name and other settings stay on the
organization settings page (owners and admins). The rule itself is tenancy's service.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from billing.forms import BillingDetailsForm
from core.errors import InvalidRequest
from marketplace.tenancy import services
from marketplace.tenancy.current_org import org_member_required
from marketplace.tenancy.roles import BILLING_ROLES

FIELDS = ("legal_name", "billing_address", "tax_id", "billing_email")


@require_http_methods(["GET", "POST"])
@org_member_required(roles=BILLING_ROLES)
def billing_details(request: HttpRequest) -> HttpResponse:
    org = request.org
    form = BillingDetailsForm(request.POST if request.method == "POST" else None,
                              initial={field: getattr(org, field) for field in FIELDS})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_billing_details(org=org, actor=request.actor, **form.cleaned_data)
        except InvalidRequest as error:
            field = error.metadata.get("param")
            form.add_error(field if field in form.fields else None, error.message)
        else:
            messages.success(request, "Billing details saved; the next invoice prints them.")
            return redirect("billing:details")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "billing/details.html", {"form": form, "org": org}, status=status)
