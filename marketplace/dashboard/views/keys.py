"""API keys: list by prefix with last use, create (shown once), revoke."""

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import Conflict, InvalidRequest
from marketplace.dashboard.forms import ApiKeyForm, add_service_error
from marketplace.tenancy import selectors, services
from marketplace.tenancy.current_org import forbidden, org_member_required
from marketplace.tenancy.roles import KEY_CREATORS, KEY_VIEWERS


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
                key, plaintext = services.create_api_key(
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
    context = {
        "form": form,
        "new_key": new_key,
        "keys": selectors.list_api_keys(request.org),
        "can_create": role in KEY_CREATORS,
        "now": timezone.now(),
    }
    return render(request, "dashboard/keys.html", context)


@org_member_required(roles=KEY_CREATORS)
@require_POST
def revoke_key(request, key_id: int):
    key = selectors.access_api_key(request.org, key_id)
    services.revoke_api_key(org=request.org, key=key, actor=request.actor)
    return redirect("/dashboard/keys/")
