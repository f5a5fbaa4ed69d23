"""Reads, always scoped: by org for tenant rows, by user for the user's own memberships.

`access_*` functions answer NotFound for another org's row exactly as for a missing one, so
ids of other tenants cannot be probed (404, never 403).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone

from core.errors import NotFound
from marketplace.tenancy.models import ApiKey, Invitation, Membership, Organization


@dataclass(frozen=True)
class KeyAuth:
    """What the gateway needs to know about a presented key; safe to cache briefly."""

    key_id: int
    org_id: int
    scope: str
    name: str
    prefix: str
    expires_at: dt.datetime | None
    revoked: bool

    def is_usable(self, now: dt.datetime | None = None) -> bool:
        """True unless revoked or past its expiry."""
        if self.revoked:
            return False
        if self.expires_at is None:
            return True
        return (now or timezone.now()) < self.expires_at


def get_key_auth(key_hash: str) -> KeyAuth | None:
    """Look a key up by its keyed hash; None if unknown. Callers check `is_usable()`."""
    row = (
        ApiKey.objects.filter(key_hash=key_hash)
        .values("id", "org_id", "scope", "name", "prefix", "expires_at", "revoked_at")
        .first()
    )
    if row is None:
        return None
    return KeyAuth(
        key_id=row["id"],
        org_id=row["org_id"],
        scope=row["scope"],
        name=row["name"],
        prefix=row["prefix"],
        expires_at=row["expires_at"],
        revoked=row["revoked_at"] is not None,
    )


# --- organizations and memberships, from the user's side ---------------------------------


def list_user_memberships(user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("org").order_by("org__name", "id")


def user_has_verified_email(user) -> bool:
    """Whether `user` has confirmed an email address (allauth's confirmation link)."""
    return EmailAddress.objects.filter(user=user, verified=True).exists()


def get_membership(*, user, org_id: int) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, org_id=org_id).select_related("org").first()


def access_membership_for_user(*, user, org_id) -> Membership:
    """The user's membership in org `org_id`; NotFound if absent or not a member."""
    try:
        org_pk = int(org_id)
    except (TypeError, ValueError):
        raise NotFound("Organization not found.") from None
    membership = get_membership(user=user, org_id=org_pk)
    if membership is None:
        raise NotFound("Organization not found.")
    return membership


# --- tenant rows, from the org's side ----------------------------------------------------


def _access(queryset: QuerySet, org: Organization, obj_id, what: str):
    try:
        pk = int(obj_id)
    except (TypeError, ValueError):
        raise NotFound(f"{what} not found.") from None
    obj = queryset.filter(org=org, pk=pk).first()
    if obj is None:
        raise NotFound(f"{what} not found.")
    return obj


def list_org_ids() -> list[int]:
    """Every organization's id (periodic jobs that look at all orgs, e.g. alerts)."""
    return list(Organization.objects.order_by("pk").values_list("pk", flat=True))


def list_members(org: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(org=org).select_related("user").order_by("created_at", "id")


def access_member(org: Organization, membership_id) -> Membership:
    return _access(Membership.objects.select_related("user"), org, membership_id, "Member")


def list_api_keys(org: Organization, *, include_revoked: bool = True) -> QuerySet[ApiKey]:
    """The org's keys, newest first, each with `creator_removed`.

    `creator_removed` is True when the user who minted the key is no longer a member, so the
    keys page can point out keys nobody in the org answers for.
    """
    is_member = Exists(Membership.objects.filter(org_id=OuterRef("org_id"),
                                                 user_id=OuterRef("created_by_id")))
    keys = (
        ApiKey.objects.filter(org=org)
        .select_related("created_by", "parent_key")
        .annotate(
            creator_removed=ExpressionWrapper(
                Q(created_by__isnull=False) & ~is_member, output_field=BooleanField()
            )
        )
        .order_by("-created_at")
    )
    if not include_revoked:
        keys = keys.filter(revoked_at__isnull=True)
    return keys


def list_member_keys(org: Organization, user_id: int) -> QuerySet[ApiKey]:
    """The org's keys minted by user `user_id` that still work (not revoked, not expired)."""
    return (
        ApiKey.objects.filter(org=org, created_by_id=user_id, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .order_by("-created_at")
    )


def access_api_key(org: Organization, key_id) -> ApiKey:
    return _access(ApiKey.objects.all(), org, key_id, "API key")


def list_pending_invitations(org: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        org=org, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at")


def access_invitation(org: Organization, invitation_id) -> Invitation:
    return _access(Invitation.objects.all(), org, invitation_id, "Invitation")


def hash_invitation_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_invitation_by_token(token: str) -> Invitation | None:
    """The invitation for an emailed token, whatever its state; None if unknown."""
    if not token or len(token) > 200:
        return None
    return (
        Invitation.objects.filter(token_hash=hash_invitation_token(token))
        .select_related("org")
        .first()
    )
