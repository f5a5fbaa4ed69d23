"""The management REST API under /api/v1/: session and management-key auth, roles, payloads."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace.tenancy.keys import hash_api_key
from marketplace.tenancy.models import ApiKey, Invitation, Membership, Organization, Role
from marketplace.tenancy.selectors import get_key_auth
from tests.tenancy.factories import UserFactory, api_key, key_client, member, session_client

pytestmark = pytest.mark.django_db


def test_anonymous_gets_401_or_403():
    response = APIClient().get("/api/v1/keys/")
    assert response.status_code in (401, 403)


def test_list_my_organizations_with_roles():
    a = member(Role.OWNER)
    b = member(Role.VIEWER)
    Membership.objects.filter(pk=b.pk).update(user=a.user)
    response = session_client(a).get("/api/v1/organizations/")
    assert response.status_code == 200
    assert sorted((o["id"], o["role"]) for o in response.json()) == sorted(
        [(a.org_id, "owner"), (b.org_id, "viewer")]
    )


def test_create_organization_makes_the_caller_owner():
    client = APIClient()
    user = UserFactory()
    client.force_login(user)
    response = client.post("/api/v1/organizations/create/", {"name": "Beta"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["role"]) == ("Beta", "owner")
    assert Membership.objects.get(user=user).org_id == body["id"]


def test_update_organization_billing_details():
    owner = member(Role.OWNER)
    response = session_client(owner).post(
        f"/api/v1/organizations/{owner.org_id}/update/",
        {"legal_name": "Beta Ltd", "tax_id": "GB1"},
        format="json",
    )
    assert response.status_code == 200
    org = Organization.objects.get(pk=owner.org_id)
    assert (org.legal_name, org.tax_id, org.name) == ("Beta Ltd", "GB1", owner.org.name)


def test_viewer_cannot_update_organization():
    viewer = member(Role.VIEWER)
    response = session_client(viewer).post(
        f"/api/v1/organizations/{viewer.org_id}/update/", {"name": "X"}, format="json"
    )
    assert response.status_code == 403
    assert Organization.objects.get(pk=viewer.org_id).name == viewer.org.name


def test_create_key_returns_plaintext_once_and_lists_by_prefix():
    dev = member(Role.DEVELOPER)
    client = session_client(dev)
    response = client.post("/api/v1/keys/create/", {"name": "ci"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["scope"] == "inference"
    assert body["prefix"] == body["key"][:14]
    assert get_key_auth(hash_api_key(body["key"])).key_id == body["id"]
    listing = client.get("/api/v1/keys/")
    assert listing.status_code == 200
    assert [k["prefix"] for k in listing.json()["results"]] == [body["prefix"]]
    assert body["key"] not in listing.content.decode()


@pytest.mark.parametrize("role", [Role.DEVELOPER, Role.FINANCE, Role.VIEWER])
def test_management_key_needs_owner_or_admin(role):
    m = member(role)
    response = session_client(m).post(
        "/api/v1/keys/create/", {"name": "ops", "scope": "management"}, format="json"
    )
    assert response.status_code == 403
    assert ApiKey.objects.count() == 0


@pytest.mark.parametrize("role", [Role.FINANCE, Role.VIEWER])
def test_finance_and_viewer_cannot_create_any_key(role):
    m = member(role)
    response = session_client(m).post("/api/v1/keys/create/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert ApiKey.objects.count() == 0


def test_management_key_authenticates_and_acts_for_its_org():
    owner = member(Role.OWNER)
    _, plaintext = api_key(owner.org, scope="management")
    client = key_client(plaintext)
    response = client.post("/api/v1/keys/create/", {"name": "from-key"}, format="json")
    assert response.status_code == 201
    assert ApiKey.objects.get(pk=response.json()["id"]).org_id == owner.org_id
    orgs = client.get("/api/v1/organizations/").json()
    assert [o["id"] for o in orgs] == [owner.org_id]
    assert ApiKey.objects.get(key_hash=hash_api_key(plaintext)).last_used_at is not None


def test_inference_key_gets_403_on_the_management_api():
    org = member(Role.OWNER).org
    _, plaintext = api_key(org, scope="inference")
    client = key_client(plaintext)
    assert client.get("/api/v1/keys/").status_code == 403
    assert client.get("/api/v1/organizations/").status_code == 403


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer sk-sy-" + "x" * 43])
def test_malformed_or_unknown_key_gets_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/keys/").status_code == 401


def test_revoked_management_key_gets_401():
    owner = member(Role.OWNER)
    key, plaintext = api_key(owner.org, scope="management")
    assert session_client(owner).post(f"/api/v1/keys/{key.pk}/revoke/").status_code == 200
    assert key_client(plaintext).get("/api/v1/keys/").status_code == 401


def test_expired_management_key_gets_401():
    owner = member(Role.OWNER)
    key, plaintext = api_key(owner.org, scope="management")
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert key_client(plaintext).get("/api/v1/keys/").status_code == 401


def test_members_invite_role_change_and_remove():
    owner = member(Role.OWNER)
    client = session_client(owner)
    invited = client.post(
        "/api/v1/invitations/create/", {"email": "a@example.com", "role": "finance"}, format="json"
    )
    assert invited.status_code == 201
    assert [i["email"] for i in client.get("/api/v1/invitations/").json()["results"]] == [
        "a@example.com"
    ]
    other = member(Role.VIEWER, org=owner.org)
    changed = client.post(
        f"/api/v1/members/{other.pk}/update/", {"role": "developer"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["role"] == "developer"
    assert client.post(f"/api/v1/members/{other.pk}/remove/").status_code == 204
    assert not Membership.objects.filter(pk=other.pk).exists()


def test_last_owner_cannot_leave_via_api():
    owner = member(Role.OWNER)
    response = session_client(owner).post(f"/api/v1/members/{owner.pk}/remove/")
    assert response.status_code == 409
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_admin_cannot_make_an_owner():
    owner = member(Role.OWNER)
    admin = member(Role.ADMIN, org=owner.org)
    dev = member(Role.DEVELOPER, org=owner.org)
    response = session_client(admin).post(
        f"/api/v1/members/{dev.pk}/update/", {"role": "owner"}, format="json"
    )
    assert response.status_code == 403
    dev.refresh_from_db()
    assert dev.role == "developer"


def test_accept_invitation_via_api(django_capture_on_commit_callbacks):
    owner = member(Role.OWNER)
    client = session_client(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v1/invitations/create/", {"email": "b@example.com"}, format="json")
    assert [m.to for m in mail.outbox] == [["b@example.com"]]
    # The token only exists in the email; take it from the outbox like the invitee would.
    token = mail.outbox[-1].body.split("/invitations/")[1].split("/")[0]
    invitee = UserFactory(email="b@example.com")
    joiner = APIClient()
    joiner.force_login(invitee)
    response = joiner.post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert response.status_code == 201
    assert Membership.objects.get(user=invitee).org_id == owner.org_id
    again = joiner.post("/api/v1/invitations/accept/", {"token": token}, format="json")
    assert again.status_code == 400
    assert again.json()["error"]["message"] == "This invitation has already been used."


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/api/v1/keys/create/", {}, "name"),
        ("/api/v1/keys/create/", {"name": "x", "scope": "root"}, "scope"),
        ("/api/v1/keys/create/", {"name": "x", "expires_at": "tomorrow"}, "expires_at"),
        ("/api/v1/keys/create/", {"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ("/api/v1/keys/create/", {"name": ["not", "a", "string"]}, "name"),
        ("/api/v1/invitations/create/", {"email": "not-an-email"}, "email"),
        ("/api/v1/invitations/create/", {"email": "c@example.com", "role": "king"}, "role"),
        ("/api/v1/organizations/create/", {"name": ""}, "name"),
        ("/api/v1/invitations/accept/", {}, "token"),
    ],
)
def test_malformed_payloads_get_400_with_field_errors(path, payload, field):
    owner = member(Role.OWNER)
    response = session_client(owner).post(path, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert ApiKey.objects.count() == 0 and Invitation.objects.count() == 0


def test_non_json_body_is_a_400_not_a_500():
    owner = member(Role.OWNER)
    response = session_client(owner).post(
        "/api/v1/keys/create/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_session_writes_need_csrf():
    owner = member(Role.OWNER)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner.user)
    response = client.post("/api/v1/keys/create/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert ApiKey.objects.count() == 0


def test_schema_lists_the_tenancy_operations(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/keys/create/", "/api/v1/members/", "/api/v1/invitations/accept/",
                 "/api/v1/organizations/{org_id}/update/"):
        assert path in paths
