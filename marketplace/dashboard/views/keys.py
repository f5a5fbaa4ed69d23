"""API keys: list by prefix with spend and last use, create (shown once), a detail page with
the key's usage chart, rename, and revoke after a confirmation page."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from billing.selectors import spend_summary
from billing.selectors.spend import get_key_usage
from core import charts
from core.errors import Conflict, InvalidRequest
from marketplace.dashboard.forms import ApiKeyForm, add_service_error
from marketplace.dashboard.overview_forms import RenameKeyForm
from marketplace.tenancy import key_services, selectors
from marketplace.tenancy.current_org import forbidden, org_member_required
from marketplace.tenancy.models import ApiKey, KeyScope
from marketplace.tenancy.roles import KEY_CREATORS, KEY_VIEWERS, MANAGEMENT_KEY_CREATORS


@never_cache  # no-store: the page that shows a new key's secret is never cached
@org_member_required(roles=KEY_VIEWERS)
@require_http_methods(["GET", "POST"])
def keys(request):
    role = request.membership.role
    form = ApiKeyForm(request.POST or None, role=role)
    new_key = None
    if request.method == "POST":
        if role not in KEY_CREATORS:
            return forbidden(request, "Your role cannot create API keys.")
        if form.is_valid():
            try:
                key, plaintext = key_services.create_api_key(
                    org=request.org,
                    name=form.cleaned_data["name"],
                    scope=form.cleaned_data["scope"],
                    expires_at=form.expires_at(),
                    actor=request.actor,
                )
            except (InvalidRequest, Conflict) as error:
                add_service_error(form, error)
            else:
                # Rendered, never redirected or flashed: the plaintext must not reach the session.
                new_key = {"key": key, "plaintext": plaintext}
                form = ApiKeyForm(role=role)
    spend = spend_summary.get_spend_by_key(request.org.pk)
    limits = spend_summary.get_key_limits(request.org.pk)
    keys = list(selectors.list_api_keys(request.org))
    for key in keys:
        key.spend = spend.get(key.pk, {"day_nanos": 0, "month_nanos": 0})
        key.limit = limits.get(key.pk)
    context = {
        "form": form,
        "new_key": new_key,
        "keys": keys,
        "can_create": role in KEY_CREATORS,
        "now": timezone.now(),
    }
    return render(request, "dashboard/keys.html", context)


def _can_change(role: str, key: ApiKey) -> bool:
    """Who may rename or revoke `key` (the services enforce the same rule)."""
    if key.scope == KeyScope.MANAGEMENT:
        return role in MANAGEMENT_KEY_CREATORS
    return role in KEY_CREATORS


@org_member_required(roles=KEY_VIEWERS)
@require_http_methods(["GET", "POST"])
def key_detail(request, key_id: int):
    """A key's details, its usage over the last 30 days, and the rename form."""
    key = selectors.access_api_key(request.org, key_id)
    can_edit = _can_change(request.membership.role, key) and key.revoked_at is None
    form = RenameKeyForm(request.POST or None, initial={"name": key.name})
    if request.method == "POST":
        if not can_edit:
            return forbidden(request, "Your role cannot rename this key.")
        if form.is_valid():
            try:
                key_services.rename_api_key(org=request.org, key=key,
                                        name=form.cleaned_data["name"], actor=request.actor)
            except InvalidRequest as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"Renamed the key to “{key.name}”.")
                return redirect(f"/dashboard/keys/{key.pk}/")
    days = spend_summary.chart_days()
    rows = spend_summary.list_daily_spend_by_model(request.org.pk, days=days, key_id=key.pk)
    context = {
        "key": key,
        "form": form,
        "can_edit": can_edit,
        "usage": get_key_usage(request.org.pk, key.pk),
        "usage_chart": charts.spend_and_requests(days, rows),
        "requests_30d": sum(row["requests"] for row in rows),
        "now": timezone.now(),
    }
    return render(request, "dashboard/key_detail.html", context,
                  status=400 if form.errors else 200)


@org_member_required(roles=KEY_CREATORS)
@require_http_methods(["GET", "POST"])
def revoke_key(request, key_id: int):
    """GET asks for confirmation (no script needed); POST revokes and says what happened."""
    key = selectors.access_api_key(request.org, key_id)
    if not _can_change(request.membership.role, key):
        return forbidden(request, "Only owners and admins can revoke management keys.")
    children = list(selectors.list_api_keys(request.org, include_revoked=False)
                    .filter(parent_key=key))
    if request.method == "GET":
        return render(request, "dashboard/revoke_key.html", {"key": key, "children": children})
    if key.revoked_at is not None:
        messages.info(request, f"The key “{key.name}” ({key.prefix}…) was already revoked.")
        return redirect("/dashboard/keys/")
    key_services.revoke_api_key(org=request.org, key=key, actor=request.actor)
    also = (f" The {len(children)} key{'s' if len(children) != 1 else ''} it created "
            f"{'were' if len(children) != 1 else 'was'} revoked with it." if children else "")
    messages.success(request, f"Revoked the key “{key.name}” ({key.prefix}…): requests using "
                              f"it are refused from now on.{also}")
    return redirect("/dashboard/keys/")
