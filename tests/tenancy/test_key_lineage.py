"""Keys minted by a management key: inference only, never outliving it, revoked with it.

Also: every key records who minted it, and keys cannot invite members or change roles (a key
that could would leave a way back into the org after its revocation).
"""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from core.errors import Forbidden
from marketplace.tenancy import key_services
from marketplace.tenancy.models import ApiKey, Invitation, Membership, Role
from marketplace.tenancy.roles import Actor
from tests.tenancy.factories import api_key, key_client, member, session_client

pytestmark = pytest.mark.django_db


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_management_key_cannot_mint_a_management_key():
    owner = member(Role.OWNER)
    parent, plaintext = api_key(owner.org, scope="management")
    response = key_client(plaintext).post(
        "/api/v1/keys/create/", {"name": "backdoor", "scope": "management"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "An API key can create only inference keys; sign in to create management keys."
    )
    assert list(ApiKey.objects.values_list("pk", flat=True)) == [parent.pk]


def test_child_expiry_defaults_to_the_parents():
    owner = member(Role.OWNER)
    expires = timezone.now() + dt.timedelta(days=3)
    parent, plaintext = api_key(owner.org, scope="management", expires_at=expires)
    response = key_client(plaintext).post("/api/v1/keys/create/", {"name": "ci"}, format="json")
    assert response.status_code == 201
    child = ApiKey.objects.get(pk=response.json()["id"])
    assert (child.scope, child.expires_at, child.parent_key_id) == ("inference", expires, parent.pk)


def test_child_expiry_later_than_the_parents_is_a_400_naming_the_field():
    owner = member(Role.OWNER)
    expires = timezone.now() + dt.timedelta(days=3)
    _, plaintext = api_key(owner.org, scope="management", expires_at=expires)
    client = key_client(plaintext)
    for later in (expires + dt.timedelta(seconds=1), expires + dt.timedelta(days=365)):
        response = client.post(
            "/api/v1/keys/create/", {"name": "ci", "expires_at": _iso(later)}, format="json"
        )
        assert response.status_code == 400
        assert list(response.json()) == ["expires_at"]
    assert ApiKey.objects.count() == 1
    earlier = expires - dt.timedelta(days=1)
    response = client.post(
        "/api/v1/keys/create/", {"name": "ci", "expires_at": _iso(earlier)}, format="json"
    )
    assert response.status_code == 201
    assert ApiKey.objects.get(pk=response.json()["id"]).expires_at == earlier


def test_non_expiring_parent_mints_non_expiring_children_by_default():
    owner = member(Role.OWNER)
    _, plaintext = api_key(owner.org, scope="management")
    response = key_client(plaintext).post("/api/v1/keys/create/", {"name": "ci"}, format="json")
    assert response.status_code == 201
    assert response.json()["expires_at"] is None


def test_created_by_is_recorded_for_a_user_and_for_a_key():
    owner = member(Role.OWNER)
    by_user = session_client(owner).post(
        "/api/v1/keys/create/", {"name": "ops", "scope": "management"}, format="json"
    ).json()
    assert (by_user["created_by_user_id"], by_user["parent_key_id"]) == (owner.user_id, None)
    by_key = key_client(by_user["key"]).post(
        "/api/v1/keys/create/", {"name": "ci"}, format="json"
    ).json()
    assert (by_key["created_by_user_id"], by_key["parent_key_id"]) == (None, by_user["id"])
    listed = {k["id"]: k for k in session_client(owner).get("/api/v1/keys/").json()["results"]}
    assert (listed[by_key["id"]]["parent_key_id"], listed[by_user["id"]]["created_by_user_id"]) == (
        by_user["id"], owner.user_id
    )


def test_revoking_a_key_revokes_the_keys_it_minted():
    owner = member(Role.OWNER)
    parent, plaintext = api_key(owner.org, scope="management")
    sibling, _ = api_key(owner.org)
    client = key_client(plaintext)
    children = [
        client.post("/api/v1/keys/create/", {"name": f"c{i}"}, format="json").json()["id"]
        for i in range(2)
    ]
    response = session_client(owner).post(f"/api/v1/keys/{parent.pk}/revoke/")
    assert response.status_code == 200
    revoked = dict(ApiKey.objects.values_list("pk", "revoked_at"))
    assert revoked[parent.pk] is not None
    assert [revoked[c] for c in children] == [revoked[parent.pk]] * 2
    assert revoked[sibling.pk] is None


def test_a_revoked_key_cannot_mint():
    owner = member(Role.OWNER)
    parent, _ = api_key(owner.org, scope="management")
    ApiKey.objects.filter(pk=parent.pk).update(revoked_at=timezone.now())
    with pytest.raises(Forbidden):
        key_services.create_api_key(
            org=owner.org, name="late", actor=Actor(role=Role.ADMIN, api_key_id=parent.pk)
        )
    assert ApiKey.objects.count() == 1


def test_a_key_cannot_invite_members(django_capture_on_commit_callbacks):
    owner = member(Role.OWNER)
    _, plaintext = api_key(owner.org, scope="management")
    with django_capture_on_commit_callbacks(execute=True):
        response = key_client(plaintext).post(
            "/api/v1/invitations/create/", {"email": "in@example.com", "role": "viewer"},
            format="json",
        )
    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "Invitations are sent by a signed-in user, not an API key."
    )
    assert Invitation.objects.count() == 0
    assert mail.outbox == []


def test_a_key_cannot_change_roles():
    owner = member(Role.OWNER)
    dev = member(Role.DEVELOPER, org=owner.org)
    _, plaintext = api_key(owner.org, scope="management")
    response = key_client(plaintext).post(
        f"/api/v1/members/{dev.pk}/update/", {"role": "admin"}, format="json"
    )
    assert response.status_code == 403
    assert Membership.objects.get(pk=dev.pk).role == "developer"
