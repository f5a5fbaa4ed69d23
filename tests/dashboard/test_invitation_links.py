"""Invitation links: clear errors for bad tokens, single use, sign-up round trip."""

import datetime as dt

import pytest
from django.utils import timezone

from marketplace.tenancy import services
from marketplace.tenancy.models import Invitation, Membership, Role
from marketplace.tenancy.roles import Actor
from tests.tenancy.factories import UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite():
    owner = member(Role.OWNER)
    invitation, token = services.invite_member(
        org=owner.org, email="guest@example.com", role=Role.DEVELOPER,
        actor=Actor(role=Role.OWNER, user=owner.user),
    )
    return owner, invitation, token


def _error(response) -> str:
    return response.context["error"]


def test_unknown_token(client):
    response = client.get("/invitations/not-a-real-token/")
    assert response.status_code == 400
    assert _error(response) == "This invitation link is not valid."


def test_expired_token(client, invite):
    _, invitation, token = invite
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get(f"/invitations/{token}/")
    assert response.status_code == 400
    assert _error(response) == "This invitation has expired. Ask for a new one."


def test_revoked_token(client, invite):
    owner, invitation, token = invite
    services.revoke_invitation(
        org=owner.org, invitation=invitation, actor=Actor(role=Role.OWNER, user=owner.user)
    )
    assert _error(client.get(f"/invitations/{token}/")) == "This invitation has been revoked."


def test_accept_once_then_used(client, invite):
    owner, invitation, token = invite
    guest = UserFactory(email="guest@example.com")
    client.force_login(guest)
    page = client.get(f"/invitations/{token}/")
    assert page.status_code == 200
    assert owner.org.name in page.content.decode()
    response = client.post(f"/invitations/{token}/")
    assert response["Location"] == "/dashboard/"
    membership = Membership.objects.get(user=guest)
    assert (membership.org_id, membership.role) == (owner.org_id, "developer")
    assert client.get("/dashboard/").context["org"].pk == owner.org_id
    second = client.post(f"/invitations/{token}/")
    assert second.status_code == 400
    assert _error(second) == "This invitation has already been used."
    assert Membership.objects.filter(user=guest).count() == 1


def test_existing_member_gets_a_clear_error(client, invite):
    owner, _, token = invite
    client.force_login(owner.user)
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 400
    assert _error(response) == "You are already a member of this organization."


def test_anonymous_visitor_is_brought_back_after_sign_up(client, invite):
    _, _, token = invite
    page = client.get(f"/invitations/{token}/")
    assert page.status_code == 200
    assert f"/accounts/signup/?next=/invitations/{token}/" in page.content.decode()
    # After sign-up (here: a fresh verified user), the org-creation page points back to it.
    client.force_login(UserFactory())
    create_page = client.get("/dashboard/organizations/new/")
    assert f'href="/invitations/{token}/"' in create_page.content.decode()


def test_inviting_an_existing_member_is_a_form_error(client):
    owner = member(Role.OWNER)
    other = member(Role.VIEWER, org=owner.org)
    client.force_login(owner.user)
    response = client.post(
        "/dashboard/members/invite/", {"email": other.user.email, "role": "viewer"}
    )
    assert response.status_code == 200
    assert "This person is already a member." in response.content.decode()
    assert Invitation.objects.count() == 0


def test_invitation_email_carries_the_link(client, django_capture_on_commit_callbacks, mailoutbox):
    owner = member(Role.OWNER)
    client.force_login(owner.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/dashboard/members/invite/", {"email": "z@example.com", "role": "finance"})
    assert [m.to for m in mailoutbox] == [["z@example.com"]]
    token = mailoutbox[0].body.split("/invitations/")[1].split("/")[0]
    assert client.get(f"/invitations/{token}/").status_code == 200
