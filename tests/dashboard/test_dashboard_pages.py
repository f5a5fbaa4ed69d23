"""The dashboard pages render for the right roles and do what their forms say."""

import pytest

from marketplace.tenancy.keys import hash_api_key
from marketplace.tenancy.models import ApiKey, Invitation, Membership, Organization, Role
from marketplace.tenancy.selectors import get_key_auth
from tests.tenancy.factories import UserFactory, api_key, member

pytestmark = pytest.mark.django_db


def _client(client, membership):
    client.force_login(membership.user)
    return client


def test_root_redirects_by_sign_in_state(client):
    assert client.get("/")["Location"] == "/models"
    m = member()
    assert _client(client, m).get("/")["Location"] == "/dashboard/"


def test_anonymous_dashboard_goes_to_login(client):
    response = client.get("/dashboard/keys/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/dashboard/keys/")


def test_user_without_org_is_asked_to_create_one(client):
    user = UserFactory()
    client.force_login(user)
    response = client.get("/dashboard/")
    assert response["Location"] == "/dashboard/organizations/new/"
    response = client.post("/dashboard/organizations/new/", {"name": "Acme Labs"})
    assert response["Location"] == "/dashboard/"
    membership = Membership.objects.get(user=user)
    assert (membership.org.name, membership.org.slug, membership.role) == (
        "Acme Labs", "acme-labs", "owner"
    )
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert b"Acme Labs" in page.content


def test_blank_org_name_is_a_form_error(client):
    client.force_login(UserFactory())
    response = client.post("/dashboard/organizations/new/", {"name": "  "})
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert Organization.objects.count() == 0


@pytest.mark.parametrize("role", list(Role.values))
def test_overview_renders_for_every_role_with_billing_links_for_billing_roles(client, role):
    m = member(role)
    page = _client(client, m).get("/dashboard/")
    assert page.status_code == 200
    has_billing = b'href="/billing/wallet/"' in page.content
    assert has_billing == (role in {"owner", "admin", "finance"})
    assert (b'href="/dashboard/keys/"' in page.content) == (role != "finance")


def test_finance_cannot_open_keys_or_members(client):
    m = member(Role.FINANCE)
    _client(client, m)
    assert client.get("/dashboard/keys/").status_code == 403
    assert client.get("/dashboard/members/").status_code == 403


def test_key_is_shown_once_then_only_by_prefix(client):
    m = member(Role.DEVELOPER)
    _client(client, m)
    response = client.post("/dashboard/keys/", {"name": "laptop", "scope": "inference"})
    assert response.status_code == 200
    key = ApiKey.objects.get(org=m.org)
    plaintext = response.context["new_key"]["plaintext"]
    assert plaintext.encode() in response.content
    assert get_key_auth(hash_api_key(plaintext)).key_id == key.pk
    later = client.get("/dashboard/keys/")
    assert plaintext.encode() not in later.content
    assert key.prefix.encode() in later.content


def test_key_with_expiry_date(client):
    m = member(Role.ADMIN)
    _client(client, m)
    client.post(
        "/dashboard/keys/", {"name": "temp", "scope": "management", "expires_on": "2099-01-31"}
    )
    key = ApiKey.objects.get(org=m.org)
    assert key.scope == "management"
    assert key.expires_at.isoformat() == "2099-01-31T00:00:00+00:00"


def test_key_with_past_expiry_is_a_form_error(client):
    m = member(Role.OWNER)
    response = _client(client, m).post(
        "/dashboard/keys/", {"name": "old", "scope": "inference", "expires_on": "2001-01-01"}
    )
    assert b"The expiry must be in the future." in response.content
    assert ApiKey.objects.count() == 0


@pytest.mark.parametrize("role", [Role.FINANCE, Role.VIEWER])
def test_finance_and_viewer_get_403_creating_keys(client, role):
    m = member(role)
    response = _client(client, m).post("/dashboard/keys/", {"name": "x", "scope": "inference"})
    assert response.status_code == 403
    assert ApiKey.objects.count() == 0


def test_developer_gets_403_creating_a_management_key(client):
    m = member(Role.DEVELOPER)
    response = _client(client, m).post("/dashboard/keys/", {"name": "x", "scope": "management"})
    # The developer's form offers no management scope, so the choice itself is invalid.
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert ApiKey.objects.count() == 0


def test_revoke_from_the_dashboard(client):
    m = member(Role.OWNER)
    key, plaintext = api_key(m.org)
    response = _client(client, m).post(f"/dashboard/keys/{key.pk}/revoke/")
    assert response["Location"] == "/dashboard/keys/"
    assert get_key_auth(hash_api_key(plaintext)).revoked is True


def test_invite_change_role_and_remove(client):
    owner = member(Role.OWNER)
    _client(client, owner)
    response = client.post(
        "/dashboard/members/invite/", {"email": "New@Example.com", "role": "viewer"}
    )
    assert response["Location"] == "/dashboard/members/"
    invitation = Invitation.objects.get(org=owner.org)
    assert (invitation.email, invitation.role) == ("new@example.com", "viewer")
    other = member(Role.VIEWER, org=owner.org)
    client.post(f"/dashboard/members/{other.pk}/role/", {"role": "developer"})
    other.refresh_from_db()
    assert other.role == "developer"
    client.post(f"/dashboard/members/{other.pk}/remove/")
    assert not Membership.objects.filter(pk=other.pk).exists()


def test_last_owner_cannot_leave(client):
    owner = member(Role.OWNER)
    _client(client, owner)
    client.post(f"/dashboard/members/{owner.pk}/remove/", follow=True)
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_settings_edit_and_read_only(client):
    owner = member(Role.OWNER)
    data = {
        "name": "Renamed", "legal_name": "Renamed GmbH", "billing_address": "Street 1\nBerlin",
        "tax_id": "DE123", "billing_email": "ap@example.com",
    }
    assert _client(client, owner).post("/dashboard/settings/", data).status_code == 302
    org = Organization.objects.get(pk=owner.org_id)
    assert (org.name, org.legal_name, org.tax_id, org.billing_email) == (
        "Renamed", "Renamed GmbH", "DE123", "ap@example.com"
    )
    viewer = member(Role.VIEWER, org=org)
    client.force_login(viewer.user)
    assert client.get("/dashboard/settings/").status_code == 200
    assert client.post("/dashboard/settings/", {**data, "name": "Hijack"}).status_code == 403
    org.refresh_from_db()
    assert org.name == "Renamed"


def test_org_switcher(client):
    first = member(Role.OWNER)
    second = member(Role.VIEWER)
    Membership.objects.filter(pk=second.pk).update(user=first.user)
    _client(client, first)
    client.post("/dashboard/switch/", {"org": second.org_id})
    assert client.get("/dashboard/").context["org"].pk == second.org_id
    client.post("/dashboard/switch/", {"org": first.org_id})
    assert client.get("/dashboard/").context["org"].pk == first.org_id
