"""Members and invitations: invite by email, change roles, remove, revoke invitations."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import Conflict, InvalidRequest
from marketplace.dashboard.forms import InviteForm, RoleForm, add_service_error
from marketplace.tenancy import selectors, services
from marketplace.tenancy.current_org import forbidden, org_member_required
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import KEY_VIEWERS, MEMBER_MANAGERS

MEMBERS_URL = "/dashboard/members/"


def _render(request, invite_form, status=200):
    context = {
        "members": selectors.list_members(request.org),
        "invitations": selectors.list_pending_invitations(request.org),
        "invite_form": invite_form,
        "can_manage": request.membership.role in MEMBER_MANAGERS,
        "roles": Role.choices,
    }
    return render(request, "dashboard/members.html", context, status=status)


@org_member_required(roles=KEY_VIEWERS)
@require_http_methods(["GET"])
def members(request):
    return _render(request, InviteForm(actor_role=request.membership.role))


@org_member_required(roles=MEMBER_MANAGERS)
@require_POST
def invite(request):
    form = InviteForm(request.POST, actor_role=request.membership.role)
    if form.is_valid():
        try:
            services.invite_member(
                org=request.org,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=request.actor,
            )
        except (InvalidRequest, Conflict) as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect(MEMBERS_URL)
    return _render(request, form)


@org_member_required(roles=MEMBER_MANAGERS)
@require_POST
def change_role(request, membership_id: int):
    membership = selectors.access_member(request.org, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect(MEMBERS_URL)
    try:
        services.change_role(
            org=request.org, membership=membership, role=form.cleaned_data["role"],
            actor=request.actor,
        )
    except (InvalidRequest, Conflict) as error:
        messages.error(request, error.message)
    else:
        role_label = membership.get_role_display()
        messages.success(request, f"{membership.user.email} is now {role_label}.")
    return redirect(MEMBERS_URL)


@org_member_required()
@require_http_methods(["GET", "POST"])
def remove(request, membership_id: int):
    """Confirm (GET) and remove (POST) a member; members may also remove themselves (leave).

    The confirmation lists the member's working keys; `revoke_keys` revokes them with the
    removal, otherwise they keep working and the keys page marks them "creator removed".
    """
    membership = selectors.access_member(request.org, membership_id)
    leaving = membership.user_id == request.user.pk
    if not leaving and request.membership.role not in MEMBER_MANAGERS:
        return forbidden(request, "Only owners and admins can remove members.")
    if request.method == "GET":
        context = {
            "member": membership,
            "leaving": leaving,
            "member_keys": selectors.list_member_keys(request.org, membership.user_id),
        }
        return render(request, "dashboard/remove_member.html", context)
    try:
        revoked = services.remove_member(
            org=request.org, membership=membership, actor=request.actor,
            revoke_keys=bool(request.POST.get("revoke_keys")),
        )
    except (InvalidRequest, Conflict) as error:
        messages.error(request, error.message)
        return redirect("/dashboard/settings/" if leaving else MEMBERS_URL)
    count = len(revoked)
    revoked_note = f" and revoked {count} API key{pluralize(count)}" if count else ""
    if leaving:
        messages.success(request, f"You left {request.org.name}{revoked_note}.")
        return redirect("/dashboard/")
    messages.success(request, f"Removed {membership.user.email}{revoked_note}.")
    return redirect(MEMBERS_URL)


@org_member_required(roles=MEMBER_MANAGERS)
@require_POST
def revoke_invitation(request, invitation_id: int):
    invitation = selectors.access_invitation(request.org, invitation_id)
    services.revoke_invitation(org=request.org, invitation=invitation, actor=request.actor)
    messages.success(request, f"Invitation to {invitation.email} revoked.")
    return redirect(MEMBERS_URL)
