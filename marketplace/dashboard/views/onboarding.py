"""Landing, organization creation, org switching and invitation acceptance."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import Conflict, Forbidden, InvalidRequest, NotFound
from marketplace.dashboard.forms import CreateOrganizationForm, add_service_error
from marketplace.tenancy import selectors, services
from marketplace.tenancy.current_org import current_membership, set_current_org

# A signed cookie remembers an invitation link across sign-up and email confirmation, so the
# invitee comes back to it instead of being asked to create an organization; signing up with
# the invited address needs no confirmation mail (marketplace/dashboard/account_adapter.py).
INVITE_COOKIE = "sy_invitation"
INVITE_COOKIE_MAX_AGE_S = 7 * 24 * 3600


@require_GET
def home(request):
    """`/`: the dashboard for signed-in users, the public catalog for everyone else."""
    return redirect("/dashboard/" if request.user.is_authenticated else "/models")


@login_required
@require_http_methods(["GET", "POST"])
def create_organization(request):
    form = CreateOrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.create_organization(name=form.cleaned_data["name"], owner=request.user)
        except InvalidRequest as error:
            add_service_error(form, error)
        else:
            set_current_org(request, org)
            return redirect("/dashboard/")
    token = request.get_signed_cookie(INVITE_COOKIE, default=None)
    context = {
        "form": form,
        "pending_invitation_url": f"/invitations/{token}/" if token else None,
        "has_orgs": current_membership(request) is not None,
    }
    return render(request, "dashboard/create_organization.html", context)


@login_required
@require_POST
def switch_organization(request):
    try:
        membership = selectors.access_membership_for_user(
            user=request.user, org_id=request.POST.get("org")
        )
    except NotFound as error:
        raise Http404(error.message) from error
    set_current_org(request, membership.org)
    target = request.POST.get("next", "/dashboard/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/dashboard/"
    return redirect(target)


@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    """Show an invitation and let a signed-in user accept it (the token is single-use)."""
    invitation = selectors.get_invitation_by_token(token)
    context = {"invitation": invitation, "token": token, "error": None}
    try:
        services.check_invitation(invitation)
    except InvalidRequest as error:
        context["error"] = error.message
        response = render(request, "tenancy/invitation.html", context, status=400)
        response.delete_cookie(INVITE_COOKIE)
        return response
    if request.method == "POST" and request.user.is_authenticated:
        try:
            membership = services.accept_invitation(token=token, user=request.user)
        except (InvalidRequest, Conflict) as error:
            context["error"] = error.message
            return render(request, "tenancy/invitation.html", context, status=400)
        except Forbidden as error:  # not the invited address, or not verified yet
            context["mismatch"] = error.message
            return render(request, "tenancy/invitation.html", context, status=403)
        set_current_org(request, membership.org)
        response = redirect("/dashboard/")
        response.delete_cookie(INVITE_COOKIE)
        return response
    if request.user.is_authenticated:
        try:
            services.check_invitee(invitation, request.user)
        except Forbidden as error:
            context["mismatch"] = error.message
    response = render(request, "tenancy/invitation.html", context)
    if not request.user.is_authenticated:
        response.set_signed_cookie(
            INVITE_COOKIE, token, max_age=INVITE_COOKIE_MAX_AGE_S, httponly=True, samesite="Lax"
        )
    return response
