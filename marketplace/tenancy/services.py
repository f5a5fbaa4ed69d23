"""The verbs that change tenancy state, one transaction each.

Organizations, billing details, members and invitations; API keys have their own module
(key_services.py). Permission checks live here, not in views, so the dashboard and the
management API enforce the same rules. Every function takes keyword arguments and an `Actor`
(who is acting, with which role) where the rule depends on it.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from core.errors import Conflict, Forbidden, InvalidRequest
from marketplace.tenancy import selectors, signals
from marketplace.tenancy.audit import record_audit
from marketplace.tenancy.key_services import revoke_with_descendants
from marketplace.tenancy.models import (
    ApiKey,
    Invitation,
    Membership,
    Organization,
    OrgKind,
    Role,
)
from marketplace.tenancy.roles import (
    BILLING_ROLES,
    MEMBER_MANAGERS,
    ORG_KIND_EDITORS,
    SETTINGS_EDITORS,
    Actor,
    require_role,
    require_user,
)

logger = logging.getLogger(__name__)

INVITATION_TTL = dt.timedelta(days=7)
# The dashboard serves this path (marketplace/dashboard/urls.py); literal so tenancy imports no app.
INVITATION_PATH = "/invitations/{token}/"
_BILLING_FIELDS = ("name", "legal_name", "billing_address", "tax_id", "billing_email")
_BILLING_ONLY_FIELDS = _BILLING_FIELDS[1:]
# VAT, EIN, GST, ABN... numbers as people write them: a letter or digit first, then those and
# spaces, dots, dashes or slashes.
_TAX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./-]{0,63}")
MAX_BILLING_ADDRESS_CHARS = 1000


class InvitationError(InvalidRequest):
    code = "invalid_invitation"
    message = "This invitation link is not valid."


class InvitationEmailMismatch(Forbidden):
    code = "invitation_email_mismatch"
    message = (
        "This invitation was sent to another email address. Sign in with the invited address "
        "(verified) to accept it."
    )


# --- organizations -----------------------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)[:48] or "org"
    slug = base
    while Organization.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


@transaction.atomic
def create_organization(*, name: str, owner) -> Organization:
    """Create an organization with `owner` as its first owner."""
    name = (name or "").strip()
    if not name:
        raise InvalidRequest("An organization needs a name.", param="name")
    org = Organization.objects.create(name=name[:120], slug=_unique_slug(name))
    Membership.objects.create(org=org, user=owner, role=Role.OWNER)
    record_audit(org=org, action="organization.created", actor=owner, target=org,
                 after={"name": org.name, "slug": org.slug})
    signals.organization_created.send(sender=Organization, org=org, owner=owner)
    logger.info("organization %s created by user %s", org.pk, owner.pk)
    return org


@transaction.atomic
def update_organization(*, org: Organization, actor: Actor, **fields) -> Organization:
    """Change the org's name or billing details (owners and admins)."""
    require_role(actor, SETTINGS_EDITORS,
                 "Only owners and admins can change organization settings.")
    unknown = set(fields) - set(_BILLING_FIELDS)
    if unknown:
        raise InvalidRequest(f"Unknown fields: {', '.join(sorted(unknown))}.")
    if "name" in fields and not (fields["name"] or "").strip():
        raise InvalidRequest("An organization needs a name.", param="name")
    return _save_org_fields(org, actor, fields)


@transaction.atomic
def update_billing_details(*, org: Organization, actor: Actor, **fields) -> Organization:
    """Change only what invoices print (legal name, address, tax ID, billing email).

    Finance members may, as owners and admins may: it is their paperwork; the org's name and
    everything else stay with owners and admins (update_organization).
    """
    require_role(actor, BILLING_ROLES,
                 "Only owners, admins and finance can change billing details.")
    unknown = set(fields) - set(_BILLING_ONLY_FIELDS)
    if unknown:
        raise InvalidRequest(f"Only billing details can be changed here, not "
                             f"{', '.join(sorted(unknown))}.")
    return _save_org_fields(org, actor, fields)


@transaction.atomic
def set_organization_kind(*, org: Organization, actor: Actor, kind: str) -> Organization:
    """Make the org a developer, a vendor (sponsored listings) or both (owners only)."""
    require_role(actor, ORG_KIND_EDITORS, "Only owners can change the organization's kind.")
    if kind not in OrgKind.values:
        raise InvalidRequest(f"The kind is one of {', '.join(OrgKind.values)}.", param="kind")
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if org.kind == kind:
        return org
    before = org.kind
    org.kind = kind
    org.save(update_fields=["kind"])
    record_audit(org=org, action="organization.kind_changed", actor=actor, target=org,
                 before={"kind": before}, after={"kind": kind})
    return org


def _check_billing_values(fields: dict) -> None:
    for field, value in fields.items():
        if isinstance(value, str) and "\x00" in value:
            raise InvalidRequest("Text cannot contain NUL characters.", param=field)
    tax_id = (fields.get("tax_id") or "").strip()
    if tax_id and not _TAX_ID.fullmatch(tax_id):
        raise InvalidRequest("A tax ID is letters and digits (spaces, dots, dashes and slashes "
                             "allowed), like DE123456789.", param="tax_id")
    if len(fields.get("billing_address") or "") > MAX_BILLING_ADDRESS_CHARS:
        raise InvalidRequest(f"The billing address is at most {MAX_BILLING_ADDRESS_CHARS} "
                             "characters.", param="billing_address")


def _save_org_fields(org: Organization, actor: Actor, fields: dict) -> Organization:
    _check_billing_values(fields)
    before = {field: getattr(org, field) for field in fields}
    for field, value in fields.items():
        setattr(org, field, value.strip() if isinstance(value, str) else value)
    org.save(update_fields=list(fields))
    after = {field: getattr(org, field) for field in fields}
    changed = [field for field in fields if before[field] != after[field]]
    if changed:
        record_audit(org=org, action="organization.updated", actor=actor, target=org,
                     before={f: before[f] for f in changed}, after={f: after[f] for f in changed})
    return org


# --- members and invitations -------------------------------------------------------------


# What each role may do, in the invitation email's words (roles.py holds the rules).
_ROLE_SUMMARIES = {
    Role.OWNER: "everything: members and owners, API keys, settings, billing and policies.",
    Role.ADMIN: "manage members, API keys, settings, billing and policies.",
    Role.DEVELOPER: "create and use API keys, and see the organization's keys and members.",
    Role.FINANCE: "see the wallet, usage and invoices, and top up the wallet.",
    Role.VIEWER: "see the organization's keys and members (read only).",
}


def _inviter_label(user) -> str:
    name = (user.get_full_name() or "").strip() if user is not None else ""
    email = (user.email or "").strip() if user is not None else ""
    if name and email:
        return f"{name} ({email})"
    return name or email or "A member"


def _send_invitation_email(*, org_name: str, email: str, token: str, role: str,
                           inviter: str) -> None:
    url = settings.PUBLIC_URL.rstrip("/") + INVITATION_PATH.format(token=token)
    label = Role(role).label
    context = {
        "inviter": inviter, "org_name": org_name, "email": email, "url": url,
        "role_label": label, "role_article": "an" if label[0] in "AEIOU" else "a",
        "role_summary": _ROLE_SUMMARIES[Role(role)], "ttl_days": INVITATION_TTL.days,
    }
    send_mail(
        # One line: a header cannot hold a newline (an org name is the user's text).
        subject=" ".join(render_to_string("tenancy/invitation_email_subject.txt",
                                          context).split()),
        message=render_to_string("tenancy/invitation_email.txt", context),
        from_email=None,
        recipient_list=[email],
    )


@transaction.atomic
def invite_member(
    *, org: Organization, email: str, role: str, actor: Actor
) -> tuple[Invitation, str]:
    """Invite `email` with `role`; return the invitation and its token (emailed on commit)."""
    require_user(actor, "Invitations are sent by a signed-in user, not an API key.")
    require_role(actor, MEMBER_MANAGERS, "Only owners and admins can invite members.")
    email = (email or "").strip().lower()
    if role not in Role.values:
        raise InvalidRequest("Unknown role.", param="role")
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise Forbidden("Only owners can invite owners.")
    if Membership.objects.filter(org=org, user__email__iexact=email).exists():
        raise Conflict("This person is already a member.", metadata={"param": "email"})
    now = timezone.now()
    # A new invitation replaces any pending one for the same address (a resend).
    Invitation.objects.filter(
        org=org, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        org=org,
        email=email,
        role=role,
        token_hash=selectors.hash_invitation_token(token),
        invited_by=actor.user,
        expires_at=now + INVITATION_TTL,
    )
    record_audit(org=org, action="member.invited", actor=actor, target=invitation,
                 target_label=email, after={"email": email, "role": role})
    org_name, inviter = org.name, _inviter_label(actor.user)
    transaction.on_commit(
        lambda: _send_invitation_email(org_name=org_name, email=email, token=token, role=role,
                                       inviter=inviter)
    )
    return invitation, token


@transaction.atomic
def revoke_invitation(*, org: Organization, invitation: Invitation, actor: Actor) -> Invitation:
    require_role(actor, MEMBER_MANAGERS, "Only owners and admins can revoke invitations.")
    if invitation.org_id != org.pk:  # defence in depth: callers fetch through access_invitation
        raise InvitationError()
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record_audit(org=org, action="invitation.revoked", actor=actor, target=invitation,
                     target_label=invitation.email,
                     before={"email": invitation.email, "role": invitation.role})
    return invitation


def check_invitation(invitation: Invitation | None) -> Invitation:
    """Return a usable invitation or raise InvitationError saying why it is not."""
    if invitation is None:
        raise InvitationError("This invitation link is not valid.")
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation has already been used.")
    if invitation.revoked_at is not None:
        raise InvitationError("This invitation has been revoked.")
    if invitation.expires_at <= timezone.now():
        raise InvitationError("This invitation has expired. Ask for a new one.")
    return invitation


def check_invitee(invitation: Invitation, user) -> None:
    """Raise InvitationEmailMismatch unless `user` has verified the invited address.

    Whoever holds the link is not necessarily the invitee: only an account that proved
    control of the invited mailbox may join (case-insensitively, any of its addresses).
    """
    addresses = EmailAddress.objects.filter(user=user, email__iexact=invitation.email)
    if addresses.filter(verified=True).exists():
        return
    if addresses.exists():
        raise InvitationEmailMismatch(
            "Confirm your email address first (see the confirmation email we sent), "
            "then accept the invitation."
        )
    raise InvitationEmailMismatch()


@transaction.atomic
def accept_invitation(*, token: str, user) -> Membership:
    """Join the invitation's org as `user`, whose verified email must be the invited one.

    The token is single-use.
    """
    invitation = selectors.get_invitation_by_token(token)
    if invitation is not None:
        # Lock so two concurrent accepts cannot both succeed.
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    check_invitation(invitation)
    if Membership.objects.filter(org_id=invitation.org_id, user=user).exists():
        raise Conflict("You are already a member of this organization.")
    check_invitee(invitation, user)
    membership = Membership.objects.create(
        org_id=invitation.org_id, user=user, role=invitation.role
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    record_audit(org=invitation.org_id, action="invitation.accepted", actor=user,
                 target=membership, target_label=getattr(user, "email", ""),
                 after={"email": invitation.email, "role": invitation.role})
    return membership


def _locked_owner_count(org: Organization) -> int:
    # Lock the owners' rows so two concurrent demotions cannot leave zero owners.
    return len(list(Membership.objects.select_for_update().filter(org=org, role=Role.OWNER)))


@transaction.atomic
def change_role(
    *, org: Organization, membership: Membership, role: str, actor: Actor
) -> Membership:
    """Set a member's role; owners alone grant or take away ownership."""
    require_user(actor, "Roles are changed by a signed-in user, not an API key.")
    require_role(actor, MEMBER_MANAGERS, "Only owners and admins can change roles.")
    if role not in Role.values:
        raise InvalidRequest("Unknown role.", param="role")
    if Role.OWNER in (role, membership.role) and actor.role != Role.OWNER:
        raise Forbidden("Only owners can grant or remove the owner role.")
    if membership.role == Role.OWNER and role != Role.OWNER and _locked_owner_count(org) <= 1:
        raise Conflict("An organization needs at least one owner.")
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    if previous != role:
        record_audit(org=org, action="member.role_changed", actor=actor, target=membership,
                     target_label=membership.user.email, before={"role": previous},
                     after={"role": role})
    return membership


@transaction.atomic
def remove_member(
    *, org: Organization, membership: Membership, actor: Actor, revoke_keys: bool = False
) -> list[ApiKey]:
    """Remove a member (or let a member leave); the last owner cannot leave.

    With `revoke_keys`, the member's active keys (selectors.list_member_keys) and the keys
    those minted are revoked in the same transaction; return the keys revoked.
    """
    leaving = actor.user is not None and membership.user_id == actor.user_id
    if not leaving:
        require_role(actor, MEMBER_MANAGERS, "Only owners and admins can remove members.")
        if membership.role == Role.OWNER and actor.role != Role.OWNER:
            raise Forbidden("Only owners can remove an owner.")
    if membership.role == Role.OWNER and _locked_owner_count(org) <= 1:
        raise Conflict("The last owner cannot leave the organization.")
    removed = copy.copy(membership)  # delete() clears the pk; the entry names the row removed
    email, role = membership.user.email, membership.role
    membership.delete()
    revoked: list[ApiKey] = []
    if revoke_keys:
        for key in selectors.list_member_keys(org, membership.user_id):
            revoked.extend(revoke_with_descendants(key))
    record_audit(
        org=org, action="member.removed", actor=actor, target=removed, target_label=email,
        before={"email": email, "role": role},
        after={"revoked_keys": [k.prefix for k in revoked]} if revoke_keys else None,
    )
    return revoked
