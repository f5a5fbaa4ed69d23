"""Role rules of the membership services: who invites, promotes, demotes and removes whom."""

import pytest

from core.errors import Conflict, Forbidden
from marketplace.tenancy import services
from marketplace.tenancy.models import Invitation, Membership, Role
from marketplace.tenancy.roles import Actor
from tests.tenancy.factories import member

pytestmark = pytest.mark.django_db


def actor(m):
    return Actor(role=m.role, user=m.user)


def test_last_owner_cannot_be_demoted_but_one_of_two_can():
    owner = member(Role.OWNER)
    with pytest.raises(Conflict):
        services.change_role(org=owner.org, membership=owner, role=Role.ADMIN, actor=actor(owner))
    second = member(Role.OWNER, org=owner.org)
    services.change_role(org=owner.org, membership=owner, role=Role.ADMIN, actor=actor(second))
    assert Membership.objects.get(pk=owner.pk).role == "admin"


def test_owner_can_leave_when_another_owner_remains():
    owner = member(Role.OWNER)
    second = member(Role.OWNER, org=owner.org)
    services.remove_member(org=owner.org, membership=owner, actor=actor(owner))
    assert list(Membership.objects.filter(org=owner.org)) == [second]


def test_admin_cannot_remove_an_owner():
    owner = member(Role.OWNER)
    admin = member(Role.ADMIN, org=owner.org)
    with pytest.raises(Forbidden):
        services.remove_member(org=owner.org, membership=owner, actor=actor(admin))
    assert Membership.objects.filter(pk=owner.pk).exists()


@pytest.mark.parametrize("role", [Role.DEVELOPER, Role.FINANCE, Role.VIEWER])
def test_non_managers_cannot_invite_or_remove_others(role):
    owner = member(Role.OWNER)
    m = member(role, org=owner.org)
    other = member(Role.VIEWER, org=owner.org)
    with pytest.raises(Forbidden):
        services.invite_member(org=owner.org, email="q@example.com", role="viewer", actor=actor(m))
    with pytest.raises(Forbidden):
        services.remove_member(org=owner.org, membership=other, actor=actor(m))
    with pytest.raises(Forbidden):
        services.change_role(org=owner.org, membership=other, role="admin", actor=actor(m))
    assert Invitation.objects.count() == 0
    assert Membership.objects.get(pk=other.pk).role == "viewer"


@pytest.mark.parametrize("role", [Role.DEVELOPER, Role.FINANCE, Role.VIEWER])
def test_any_member_can_leave(role):
    owner = member(Role.OWNER)
    m = member(role, org=owner.org)
    services.remove_member(org=owner.org, membership=m, actor=actor(m))
    assert not Membership.objects.filter(pk=m.pk).exists()


def test_only_owners_invite_owners():
    owner = member(Role.OWNER)
    admin = member(Role.ADMIN, org=owner.org)
    with pytest.raises(Forbidden):
        services.invite_member(
            org=owner.org, email="o@example.com", role="owner", actor=actor(admin)
        )
    invitation, _ = services.invite_member(
        org=owner.org, email="o@example.com", role="owner", actor=actor(owner)
    )
    assert invitation.role == "owner"


def test_reinviting_replaces_the_pending_invitation():
    owner = member(Role.OWNER)
    first, first_token = services.invite_member(
        org=owner.org, email="r@example.com", role="viewer", actor=actor(owner)
    )
    second, _ = services.invite_member(
        org=owner.org, email="R@example.com", role="developer", actor=actor(owner)
    )
    first.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is None
    with pytest.raises(services.InvitationError, match="revoked"):
        services.accept_invitation(token=first_token, user=member(Role.OWNER).user)
