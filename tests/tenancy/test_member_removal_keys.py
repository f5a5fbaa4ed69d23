"""Removing a member shows the keys they created and can revoke them; orphans are marked."""

import pytest
from rest_framework.test import APIClient

from marketplace.tenancy import key_services
from marketplace.tenancy.models import ApiKey, Membership, Role
from marketplace.tenancy.roles import Actor
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.django_db


def _keys_of(m, *names, scope="inference"):
    """Keys minted by member `m` through the service, as that member."""
    return [
        key_services.create_api_key(
            org=m.org, name=name, scope=scope, actor=Actor(role=m.role, user=m.user)
        )[0]
        for name in names
    ]


def _revoked(*keys) -> list[bool]:
    return [ApiKey.objects.get(pk=k.pk).revoked_at is not None for k in keys]


@pytest.fixture
def team():
    """An owner and an admin with two working keys, a revoked one, and a child key."""
    owner = member(Role.OWNER)
    admin = member(Role.ADMIN, org=owner.org)
    inference, old = _keys_of(admin, "laptop", "old")
    management, = _keys_of(admin, "ops", scope="management")
    key_services.revoke_api_key(
        org=owner.org, key=old, actor=Actor(role=Role.OWNER, user=owner.user)
    )
    child, _ = key_services.create_api_key(
        org=owner.org, name="ci", actor=Actor(role=Role.ADMIN, api_key_id=management.pk)
    )
    owners_key, = _keys_of(owner, "owner's")
    return {"owner": owner, "admin": admin, "inference": inference, "management": management,
            "old": old, "child": child, "owners_key": owners_key}


def test_confirmation_page_lists_the_members_working_keys(client, team):
    client.force_login(team["owner"].user)
    response = client.get(f"/dashboard/members/{team['admin'].pk}/remove/")
    assert response.status_code == 200
    assert {k.pk for k in response.context["member_keys"]} == {
        team["management"].pk, team["inference"].pk
    }
    page = response.content.decode()
    assert "Remove and revoke 2 keys" in page and "Remove and keep the keys" in page
    assert team["owners_key"].prefix not in page and team["old"].prefix not in page
    assert Membership.objects.filter(pk=team["admin"].pk).exists()


def test_remove_and_revoke_from_the_dashboard(client, team):
    client.force_login(team["owner"].user)
    response = client.post(
        f"/dashboard/members/{team['admin'].pk}/remove/", {"revoke_keys": "1"}
    )
    assert response["Location"] == "/dashboard/members/"
    assert not Membership.objects.filter(pk=team["admin"].pk).exists()
    assert _revoked(team["inference"], team["management"], team["child"], team["owners_key"]) == [
        True, True, True, False
    ]


def test_remove_and_keep_the_keys_from_the_dashboard_marks_them(client, team):
    client.force_login(team["owner"].user)
    client.post(f"/dashboard/members/{team['admin'].pk}/remove/")
    assert not Membership.objects.filter(pk=team["admin"].pk).exists()
    assert _revoked(team["inference"], team["management"], team["child"]) == [False] * 3
    response = client.get("/dashboard/keys/")
    marked = {k.pk for k in response.context["keys"] if k.creator_removed}
    assert marked == {team["inference"].pk, team["management"].pk, team["old"].pk}
    page = response.content.decode()
    row = page.split(f'id="key-{team["inference"].pk}"')[1].split("</tr>")[0]
    assert "creator removed" in row
    owners_row = page.split(f'id="key-{team["owners_key"].pk}"')[1].split("</tr>")[0]
    assert "creator removed" not in owners_row


def test_another_orgs_member_confirmation_is_404(client, team):
    stranger = member(Role.OWNER)
    client.force_login(stranger.user)
    assert client.get(f"/dashboard/members/{team['admin'].pk}/remove/").status_code == 404


def test_a_viewer_cannot_see_another_members_confirmation(client, team):
    viewer = member(Role.VIEWER, org=team["owner"].org)
    client.force_login(viewer.user)
    assert client.get(f"/dashboard/members/{team['admin'].pk}/remove/").status_code == 403


@pytest.mark.parametrize(("payload", "revoked"), [({}, False), ({"revoke_keys": True}, True)])
def test_remove_via_api_with_and_without_revoking(team, payload, revoked):
    client = APIClient()
    client.force_login(team["owner"].user)
    response = client.post(f"/api/v1/members/{team['admin'].pk}/remove/", payload, format="json")
    assert response.status_code == 204
    assert not Membership.objects.filter(pk=team["admin"].pk).exists()
    assert _revoked(team["inference"], team["management"], team["child"]) == [revoked] * 3
    assert _revoked(team["owners_key"]) == [False]
    listed = {k["id"]: k["creator_removed"] for k in client.get("/api/v1/keys/").json()["results"]}
    assert listed[team["inference"].pk] is True and listed[team["owners_key"].pk] is False


def test_factory_keys_without_a_creator_are_not_marked(client):
    owner = member(Role.OWNER)
    key, _ = api_key(owner.org)
    client.force_login(owner.user)
    response = client.get("/dashboard/keys/")
    assert [(k.pk, k.creator_removed) for k in response.context["keys"]] == [(key.pk, False)]


def test_leaving_offers_to_revoke_your_own_keys(client, team):
    client.force_login(team["admin"].user)
    settings_page = client.get("/dashboard/settings/").content.decode()
    assert f'href="/dashboard/members/{team["admin"].pk}/remove/"' in settings_page
    page = client.get(f"/dashboard/members/{team['admin'].pk}/remove/").content.decode()
    assert "Leave and revoke 2 keys" in page
    response = client.post(f"/dashboard/members/{team['admin'].pk}/remove/", {"revoke_keys": "1"})
    assert response["Location"] == "/dashboard/"
    assert _revoked(team["inference"], team["management"], team["child"]) == [True] * 3
    assert not Membership.objects.filter(pk=team["admin"].pk).exists()
