"""Only the invited address may accept; signing up from the link with it needs no 2nd mail."""

import uuid

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework.test import APIClient

from marketplace.tenancy import services
from marketplace.tenancy.models import Invitation, Membership, Role
from marketplace.tenancy.roles import Actor
from tests.tenancy.factories import UserFactory, member

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase-91"
MISMATCH = (
    "This invitation was sent to another email address. Sign in with the invited address "
    "(verified) to accept it."
)


def _unique(local: str) -> str:
    # allauth rate-limits confirmation mail per address in the (Redis) cache, which outlives
    # a test run: a fresh address per test keeps reruns independent.
    return f"{local}.{uuid.uuid4().hex[:8]}@example.com"


@pytest.fixture
def invite():
    owner = member(Role.OWNER)
    invitation, token = services.invite_member(
        org=owner.org, email=_unique("Guest.Invitee"), role=Role.DEVELOPER,
        actor=Actor(role=Role.OWNER, user=owner.user),
    )
    return owner, invitation, token


def _nothing_changed(invitation, user):
    assert not Membership.objects.filter(user=user).exists()
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None


def test_a_different_verified_email_cannot_accept(client, invite):
    _, invitation, token = invite
    stranger = UserFactory(email="someone.else@example.com")
    client.force_login(stranger)
    page = client.get(f"/invitations/{token}/")
    assert page.status_code == 200
    assert page.context["mismatch"] == MISMATCH
    assert "Accept and join" not in page.content.decode()
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 403
    assert response.context["mismatch"] == MISMATCH
    _nothing_changed(invitation, stranger)


def test_the_invited_email_unverified_cannot_accept(client, invite):
    _, invitation, token = invite
    invitee = UserFactory(email=invitation.email, verified=False)
    EmailAddress.objects.create(user=invitee, email=invitee.email, verified=False, primary=True)
    client.force_login(invitee)
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 403
    assert response.context["mismatch"].startswith("Confirm your email address first")
    _nothing_changed(invitation, invitee)


def test_a_verified_address_matches_case_insensitively(client, invite):
    owner, invitation, token = invite
    invitee = UserFactory(email=invitation.email.upper())
    client.force_login(invitee)
    response = client.post(f"/invitations/{token}/")
    assert response["Location"] == "/dashboard/"
    assert Membership.objects.get(user=invitee).org_id == owner.org_id


def test_api_accept_with_another_email_is_a_403(invite):
    _, invitation, token = invite
    stranger = UserFactory(email="api.stranger@example.com")
    client = APIClient()
    client.force_login(stranger)
    response = client.post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == {"code": "invitation_email_mismatch", "message": MISMATCH}
    _nothing_changed(invitation, stranger)


def _signup_from_link(client, token, email):
    assert client.get(f"/invitations/{token}/").status_code == 200  # leaves the cookie
    return client.post(
        f"/accounts/signup/?next=/invitations/{token}/",
        {"email": email, "password1": PASSWORD, "password2": PASSWORD,
         "next": f"/invitations/{token}/"},
    )


def test_sign_up_from_the_link_with_the_invited_address_needs_no_confirmation(client, invite):
    owner, invitation, token = invite
    response = _signup_from_link(client, token, invitation.email.upper())
    assert response.status_code == 302
    assert response["Location"] == f"/invitations/{token}/"
    assert mail.outbox == []
    user = get_user_model().objects.get(email__iexact=invitation.email)
    assert list(EmailAddress.objects.filter(user=user).values_list("verified", flat=True)) == [
        True
    ]
    assert "Accept and join" in client.get(f"/invitations/{token}/").content.decode()
    assert client.post(f"/invitations/{token}/")["Location"] == "/dashboard/"
    assert Membership.objects.get(user=user).org_id == owner.org_id


def test_sign_up_from_the_link_with_another_address_confirms_and_cannot_accept(client, invite):
    _, invitation, token = invite
    other = _unique("other.person")
    response = _signup_from_link(client, token, other)
    assert response["Location"] == "/accounts/confirm-email/"
    assert [m.to for m in mail.outbox] == [[other]]
    user = get_user_model().objects.get(email=other)
    assert EmailAddress.objects.get(user=user).verified is False
    # Even once confirmed, the address is not the invited one.
    EmailAddress.objects.filter(user=user).update(verified=True)
    client.force_login(user)
    assert client.post(f"/invitations/{token}/").status_code == 403
    _nothing_changed(invitation, user)


def test_sign_up_without_the_link_still_confirms_the_invited_address(client, invite):
    _, invitation, _ = invite
    response = client.post(
        "/accounts/signup/",
        {"email": invitation.email, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response["Location"] == "/accounts/confirm-email/"
    assert [m.to for m in mail.outbox] == [[invitation.email]]
