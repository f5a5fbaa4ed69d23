"""The low-balance threshold (owners, admins, finance): below it the low-balance alert
fires (observability's alerts: a dashboard banner and one email per crossing)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from billing.selectors.spend_summary import get_balance_overview
from billing.services.low_balance import set_low_balance_threshold
from core.errors import InvalidRequest
from core.money import api_usd, dashboard_usd
from marketplace.dashboard.forms import add_service_error
from marketplace.dashboard.overview_forms import LowBalanceThresholdForm
from marketplace.tenancy.current_org import org_member_required
from marketplace.tenancy.roles import BILLING_ROLES


@org_member_required(roles=BILLING_ROLES)
@require_http_methods(["GET", "POST"])
def low_balance(request):
    balance = get_balance_overview(request.org.pk)
    form = LowBalanceThresholdForm(
        request.POST or None, initial={"threshold": api_usd(balance.low_balance_threshold_nanos)})
    if request.method == "POST" and form.is_valid():
        try:
            wallet = set_low_balance_threshold(
                org=request.org, threshold_nanos=form.cleaned_data["threshold"],
                actor=request.actor)
        except InvalidRequest as error:
            add_service_error(form, error)
        else:
            threshold = wallet.low_balance_threshold_nanos
            messages.success(
                request, f"The low-balance alert now fires below {dashboard_usd(threshold)}."
                if threshold else "The low-balance warning is off.")
            return redirect("/dashboard/settings/low-balance/")
    return render(request, "dashboard/low_balance.html", {"form": form, "balance": balance},
                  status=400 if form.errors else 200)
