"""The org overview: who you are here, what the org has, where to go next."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from marketplace.tenancy import selectors
from marketplace.tenancy.current_org import org_member_required


@org_member_required()
@require_GET
def overview(request):
    org = request.org
    context = {
        "org": org,
        "active_keys": selectors.list_api_keys(org, include_revoked=False).count(),
        "members": selectors.list_members(org).count(),
        "pending_invitations": selectors.list_pending_invitations(org).count(),
        "api_base": settings.PUBLIC_URL.rstrip("/") + "/v1",
    }
    return render(request, "dashboard/overview.html", context)
