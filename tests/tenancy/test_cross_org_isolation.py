"""Another org's id answers 404 (as a missing one would) and changes nothing.

Every org-scoped dashboard page and management API endpoint is exercised by a member (or a
management key) of org A naming an object of org B; the whole tenancy state is compared before
and after.
"""

import pytest
from rest_framework.test import APIClient

from marketplace.tenancy import services
from marketplace.tenancy.models import ApiKey, Invitation, Membership, Organization, Role
from marketplace.tenancy.roles import Actor
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.django_db


def _state():
    return [
        list(model.objects.order_by("pk").values())
        for model in (Organization, Membership, Invitation, ApiKey)
    ]


@pytest.fixture
def two_orgs():
    """An owner of org A and, in org B, a key, a member and an invitation."""
    a = member(Role.OWNER)
    b = member(Role.OWNER)
    b_key, _ = api_key(b.org)
    b_member = member(Role.VIEWER, org=b.org)
    b_invitation, _ = services.invite_member(
        org=b.org, email="x@example.com", role=Role.VIEWER, actor=Actor(role="owner", user=b.user)
    )
    return {"a": a, "b": b, "key": b_key, "member": b_member, "invitation": b_invitation}


DASHBOARD_POSTS = [
    ("/dashboard/keys/{key}/revoke/", {}),
    ("/dashboard/members/{member}/role/", {"role": "admin"}),
    ("/dashboard/members/{member}/remove/", {}),
    ("/dashboard/invitations/{invitation}/revoke/", {}),
    ("/dashboard/switch/", {"org": "{org}"}),
]


def _ids(env):
    return {
        "key": env["key"].pk,
        "member": env["member"].pk,
        "invitation": env["invitation"].pk,
        "org": env["b"].org_id,
    }


@pytest.mark.parametrize(("path", "data"), DASHBOARD_POSTS)
def test_dashboard_actions_on_another_orgs_objects_answer_404(client, two_orgs, path, data):
    ids = _ids(two_orgs)
    client.force_login(two_orgs["a"].user)
    before = _state()
    response = client.post(
        path.format(**ids), {k: v.format(**ids) for k, v in data.items()}
    )
    assert response.status_code == 404
    assert _state() == before
    # The session still works in org A.
    assert client.get("/dashboard/").context["org"].pk == two_orgs["a"].org_id


def test_dashboard_lists_show_only_the_current_org(client, two_orgs):
    client.force_login(two_orgs["a"].user)
    keys_page = client.get("/dashboard/keys/").content.decode()
    members_page = client.get("/dashboard/members/").content.decode()
    assert two_orgs["key"].prefix not in keys_page
    assert two_orgs["member"].user.email not in members_page
    assert "x@example.com" not in members_page


API_CALLS = [
    ("get", "/api/v1/organizations/{org}/", None),
    ("post", "/api/v1/organizations/{org}/update/", {"name": "Hijacked"}),
    ("post", "/api/v1/keys/{key}/revoke/", None),
    ("post", "/api/v1/members/{member}/update/", {"role": "admin"}),
    ("post", "/api/v1/members/{member}/remove/", None),
    ("post", "/api/v1/invitations/{invitation}/revoke/", None),
]

ORG_HEADER_CALLS = [
    ("get", "/api/v1/keys/", None),
    ("post", "/api/v1/keys/create/", {"name": "sneaky"}),
    ("get", "/api/v1/members/", None),
    ("get", "/api/v1/invitations/", None),
    ("post", "/api/v1/invitations/create/", {"email": "y@example.com"}),
]


def _call(client, method, path, data):
    return getattr(client, method)(path, data, format="json") if data else getattr(
        client, method
    )(path)


@pytest.mark.parametrize(("method", "path", "data"), API_CALLS)
def test_api_on_another_orgs_objects_answers_404_for_a_session(two_orgs, method, path, data):
    client = APIClient()
    client.force_login(two_orgs["a"].user)
    before = _state()
    response = _call(client, method, path.format(**_ids(two_orgs)), data)
    assert response.status_code == 404
    assert _state() == before


@pytest.mark.parametrize(("method", "path", "data"), API_CALLS)
def test_api_on_another_orgs_objects_answers_404_for_a_management_key(
    two_orgs, method, path, data
):
    _, plaintext = api_key(two_orgs["a"].org, scope="management")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    before = _state()
    response = _call(client, method, path.format(**_ids(two_orgs)), data)
    assert response.status_code == 404
    after = _state()
    # last_used_at of the calling key moves; nothing else may.
    for rows in (before[3], after[3]):
        for row in rows:
            row.pop("last_used_at")
    assert after == before


@pytest.mark.parametrize(("method", "path", "data"), ORG_HEADER_CALLS)
def test_naming_another_org_in_the_header_answers_404(two_orgs, method, path, data):
    client = APIClient()
    client.force_login(two_orgs["a"].user)
    client.credentials(HTTP_X_SWITCHYARD_ORG=str(two_orgs["b"].org_id))
    before = _state()
    response = _call(client, method, path, data)
    assert response.status_code == 404
    assert _state() == before


@pytest.mark.parametrize("org_id", ["999999", "not-a-number"])
def test_missing_org_answers_the_same_404(two_orgs, org_id):
    client = APIClient()
    client.force_login(two_orgs["a"].user)
    client.credentials(HTTP_X_SWITCHYARD_ORG=org_id)
    foreign = client.get("/api/v1/keys/", HTTP_X_SWITCHYARD_ORG=str(two_orgs["b"].org_id))
    missing = client.get("/api/v1/keys/")
    assert missing.status_code == foreign.status_code == 404
    assert missing.json() == foreign.json()
