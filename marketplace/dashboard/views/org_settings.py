"""Organization settings: name and billing details (owners and admins edit, others read), and
the kind of organization (owners only)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.errors import InvalidRequest
from marketplace.dashboard.forms import (
    OrganizationKindForm,
    OrganizationSettingsForm,
    add_service_error,
)
from marketplace.tenancy import services
from marketplace.tenancy.current_org import forbidden, org_member_required
from marketplace.tenancy.roles import ORG_KIND_EDITORS, SETTINGS_EDITORS

FIELDS = ("name", "legal_name", "billing_address", "tax_id", "billing_email")


@org_member_required()
@require_http_methods(["GET", "POST"])
def org_settings(request):
    org = request.org
    editable = request.membership.role in SETTINGS_EDITORS
    initial = {field: getattr(org, field) for field in FIELDS}
    data = request.POST if request.method == "POST" else None
    form = OrganizationSettingsForm(data, initial=initial, editable=editable)
    if request.method == "POST":
        if not editable:
            return forbidden(request, "Only owners and admins can change organization settings.")
        if form.is_valid():
            try:
                services.update_organization(org=org, actor=request.actor, **form.cleaned_data)
            except InvalidRequest as error:
                add_service_error(form, error)
            else:
                messages.success(request, "Settings saved.")
                return redirect("/dashboard/settings/")
    return _render(request, form, _kind_form(request))


def _kind_form(request, data=None) -> OrganizationKindForm:
    editable = request.membership.role in ORG_KIND_EDITORS
    return OrganizationKindForm(data, initial={"kind": request.org.kind}, editable=editable)


def _render(request, form, kind_form, status=200):
    context = {
        "form": form,
        "editable": request.membership.role in SETTINGS_EDITORS,
        "kind_form": kind_form,
        "kind_editable": request.membership.role in ORG_KIND_EDITORS,
        "org": request.org,
    }
    return render(request, "dashboard/settings.html", context, status=status)


@org_member_required()
@require_http_methods(["POST"])
def org_kind(request):
    if request.membership.role not in ORG_KIND_EDITORS:
        return forbidden(request, "Only owners can change the organization's kind.")
    kind_form = _kind_form(request, request.POST)
    if kind_form.is_valid():
        try:
            services.set_organization_kind(org=request.org, actor=request.actor,
                                           kind=kind_form.cleaned_data["kind"])
        except InvalidRequest as error:
            add_service_error(kind_form, error)
        else:
            messages.success(request, "Kind of organization saved.")
            return redirect("/dashboard/settings/")
    org = request.org
    initial = {field: getattr(org, field) for field in FIELDS}
    form = OrganizationSettingsForm(initial=initial,
                                    editable=request.membership.role in SETTINGS_EDITORS)
    return _render(request, form, kind_form, status=400)
