"""Organization settings: name and billing details (owners and admins edit, others read)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.errors import InvalidRequest
from marketplace.dashboard.forms import OrganizationSettingsForm, add_service_error
from marketplace.tenancy import services
from marketplace.tenancy.current_org import forbidden, org_member_required
from marketplace.tenancy.roles import SETTINGS_EDITORS

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
    context = {"form": form, "editable": editable, "org": org}
    return render(request, "dashboard/settings.html", context)
