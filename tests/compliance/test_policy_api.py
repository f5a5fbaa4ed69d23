"""`/api/v1/compliance/policy/` (and its versions) and `/api/v1/keys/{id}/policy/`."""

from __future__ import annotations

import pytest

from compliance.models import KeyPolicy, OrgPolicy
from marketplace.tenancy.models import Role
from tests.compliance.policy_fixtures import audit_entries, build_policy_catalog
from tests.tenancy.factories import api_key, key_client, member, session_client

pytestmark = pytest.mark.django_db

POLICY = "/api/v1/compliance/policy/"
VERSIONS = "/api/v1/compliance/policy/versions/"


@pytest.fixture
def policy_catalog(db):
    return build_policy_catalog()


def _key_policy(key_id: int) -> str:
    return f"/api/v1/keys/{key_id}/policy/"


def test_an_org_without_a_policy_answers_the_defaults(policy_catalog):
    owner = member(Role.OWNER)
    response = session_client(owner).get(POLICY)
    assert response.status_code == 200
    assert response.json() == {
        "version": None, "created_at": None, "created_by": None,
        "provider_allow": None, "provider_deny": None, "model_allow": None, "model_deny": None,
        "regions": None, "require_zdr": False, "deny_training": False,
        "fallbacks_outside_preferred": True, "content_retention_days": None,
    }


def test_put_saves_a_version_and_the_get_body_round_trips(policy_catalog):
    owner = member(Role.OWNER)
    client = session_client(owner)
    response = client.put(POLICY, {"regions": ["eu"], "provider_deny": ["crane-cn", "crane-cn"],
                                   "model_allow": ["blue/large", "acme/fast"]}, format="json")
    assert response.status_code == 200, response.json()
    saved = response.json()
    assert (saved["version"], saved["changed"]) == (1, True)
    assert saved["provider_deny"] == ["crane-cn"]
    assert saved["model_allow"] == ["acme/fast", "blue/large"]
    assert saved["created_by"] == owner.user.email and saved["created_at"]
    body = client.get(POLICY).json()
    assert body == {name: value for name, value in saved.items() if name != "changed"}
    # The GET body, verbatim: nothing changes, same version, no audit entry.
    again = client.put(POLICY, body, format="json")
    assert again.status_code == 200
    assert (again.json()["version"], again.json()["changed"]) == (1, False)
    # Read-only fields are ignored, whatever they say; one edited field is a new version.
    edited = {**body, "version": 99, "created_by": "someone", "deny_training": True}
    response = client.put(POLICY, edited, format="json")
    assert (response.json()["version"], response.json()["changed"]) == (2, True)
    assert response.json()["deny_training"] is True
    assert OrgPolicy.objects.filter(org=owner.org).count() == 2
    assert len(audit_entries(owner.org, "policy.updated")) == 2


def test_a_partial_put_keeps_the_other_fields(policy_catalog):
    owner = member(Role.OWNER)
    client = session_client(owner)
    client.put(POLICY, {"regions": ["eu"], "require_zdr": True}, format="json")
    body = client.put(POLICY, {"deny_training": True}, format="json").json()
    assert (body["regions"], body["require_zdr"], body["deny_training"]) == (["eu"], True, True)


@pytest.mark.parametrize("body, field, text", [
    ({"provider_allow": ["acme-us", "nope-ai"]}, "provider_allow", "Unknown provider: nope-ai."),
    ({"model_deny": ["acme/none"]}, "model_deny", "Unknown model: acme/none."),
    ({"regions": ["atlantis"]}, "regions", "Unknown region: atlantis."),
    ({"provider_allow": ["blue-eu"], "provider_deny": ["blue-eu"]}, "provider_deny",
     "both allowed and denied"),
    ({"require_zdr": True, "content_retention_days": 30}, "content_retention_days",
     "zero data retention"),
    ({"content_retention_days": 0}, "content_retention_days", "between 1 and 3650"),
    ({"content_retention_days": "1e3"}, "content_retention_days", "whole number"),
    ({"content_retention_days": 1.5}, "content_retention_days", "whole number"),
    ({"regions": "eu"}, "regions", ""),
    ({"require_zdr": None}, "require_zdr", ""),
])
def test_bad_bodies_answer_400_naming_the_field(policy_catalog, body, field, text):
    owner = member(Role.OWNER)
    response = session_client(owner).put(POLICY, body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert text in " ".join(map(str, response.json()[field]))
    assert not OrgPolicy.objects.exists()
    assert audit_entries(owner.org, "policy.updated") == []


def test_a_body_that_is_not_an_object_is_400(policy_catalog):
    owner = member(Role.OWNER)
    client = session_client(owner)
    assert client.put(POLICY, ["eu"], format="json").status_code == 400
    response = client.put(POLICY, "regions=eu", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


@pytest.mark.parametrize("role, reads, writes", [
    (Role.OWNER, 200, 200), (Role.ADMIN, 200, 200), (Role.DEVELOPER, 200, 403),
    (Role.VIEWER, 200, 403), (Role.FINANCE, 403, 403),
])
def test_roles(policy_catalog, role, reads, writes):
    someone = member(role)
    key, _ = api_key(someone.org)
    client = session_client(someone)
    assert client.get(POLICY).status_code == reads
    assert client.get(VERSIONS).status_code == reads
    assert client.get(_key_policy(key.pk)).status_code == reads
    response = client.put(POLICY, {"regions": ["eu"]}, format="json")
    assert response.status_code == writes
    if writes == 403:
        assert response.json()["error"]["code"]
    assert client.put(_key_policy(key.pk), {"rpm": 5}, format="json").status_code == writes
    saved = 1 if writes == 200 else 0
    assert OrgPolicy.objects.count() == saved and KeyPolicy.objects.count() == saved
    assert len(audit_entries(someone.org, "policy.updated")) == saved


def test_management_keys_edit_and_inference_keys_cannot(policy_catalog):
    owner = member(Role.OWNER)
    _, management = api_key(owner.org, scope="management")
    inference, plaintext = api_key(owner.org)
    assert key_client(plaintext).get(POLICY).status_code == 403
    response = key_client(management).put(POLICY, {"regions": ["us"]}, format="json")
    assert response.status_code == 200
    assert response.json()["created_by"].startswith("key sk-")
    response = key_client(management).put(_key_policy(inference.pk), {"tpm": 1000},
                                          format="json")
    assert (response.status_code, response.json()["version"]) == (200, 1)


def test_version_history_is_paged_with_author_and_time(policy_catalog):
    owner = member(Role.OWNER)
    admin = member(Role.ADMIN, org=owner.org)
    session_client(owner).put(POLICY, {"regions": ["eu"]}, format="json")
    session_client(admin).put(POLICY, {"regions": ["us"]}, format="json")
    session_client(owner).put(POLICY, {"deny_training": True}, format="json")
    client = session_client(owner)
    page = client.get(VERSIONS, {"limit": 2}).json()
    assert page["count"] == 3 and page["next"]
    assert [(row["version"], row["created_by"]) for row in page["results"]] == [
        (3, owner.user.email), (2, admin.user.email)]
    assert all(row["created_at"] for row in page["results"])
    oldest = client.get(VERSIONS, {"limit": 2, "offset": 2}).json()["results"]
    assert [(row["version"], row["regions"]) for row in oldest] == [(1, ["eu"])]
    one = client.get(f"{VERSIONS}1/").json()
    assert (one["version"], one["regions"], one["deny_training"]) == (1, ["eu"], False)
    assert client.get(f"{VERSIONS}4/").status_code == 404
    assert client.get(VERSIONS, {"limit": 0}).status_code == 400


def test_another_orgs_policy_and_keys_are_not_found(policy_catalog):
    owner = member(Role.OWNER)
    stranger = member(Role.OWNER)
    theirs, _ = api_key(stranger.org)
    session_client(stranger).put(POLICY, {"regions": ["eu"]}, format="json")
    client = session_client(owner)
    assert client.get(VERSIONS).json()["count"] == 0
    assert client.get(f"{VERSIONS}1/").status_code == 404
    assert client.get(_key_policy(theirs.pk)).status_code == 404
    assert client.put(_key_policy(theirs.pk), {"rpm": 1}, format="json").status_code == 404
    assert client.get(f"{_key_policy(theirs.pk)}versions/").status_code == 404
    missing = client.get(_key_policy(theirs.pk + 1000))
    assert missing.status_code == 404
    assert missing.json() == client.get(_key_policy(theirs.pk)).json()
    # Naming the other org in the header is no way in either.
    response = client.get(POLICY, HTTP_X_SWITCHYARD_ORG=str(stranger.org_id))
    assert response.status_code == 404
    assert not KeyPolicy.objects.exists()


def test_key_policy_round_trip_and_validation(policy_catalog):
    owner = member(Role.OWNER)
    key, _ = api_key(owner.org)
    client = session_client(owner)
    body = client.get(_key_policy(key.pk)).json()
    assert body == {"key_id": key.pk, "version": None, "created_at": None, "created_by": None,
                    "allowed_models": None, "allowed_providers": None, "allowed_regions": None,
                    "rpm": None, "tpm": None}
    response = client.put(_key_policy(key.pk), {
        **body, "allowed_providers": ["blue-eu"], "allowed_regions": ["eu"], "rpm": 120},
        format="json")
    assert response.status_code == 200, response.json()
    saved = response.json()
    assert (saved["version"], saved["changed"], saved["rpm"]) == (1, True, 120)
    body = client.get(_key_policy(key.pk)).json()
    again = client.put(_key_policy(key.pk), body, format="json").json()
    assert (again["version"], again["changed"]) == (1, False)
    for bad, field in (({"rpm": 0}, "rpm"), ({"tpm": 10**12}, "tpm"), ({"rpm": "many"}, "rpm"),
                       ({"rpm": True}, "rpm"),
                       ({"allowed_models": ["acme/unknown"]}, "allowed_models")):
        response = client.put(_key_policy(key.pk), bad, format="json")
        assert response.status_code == 400 and field in response.json(), (bad, response.json())
    assert len(audit_entries(owner.org, "key_policy.updated")) == 1
    # Clearing the limits goes back to the operator's defaults: a new version.
    cleared = client.put(_key_policy(key.pk), {"rpm": None}, format="json").json()
    assert (cleared["version"], cleared["rpm"]) == (2, None)
    history = client.get(f"{_key_policy(key.pk)}versions/").json()
    assert history["count"] == 2
    assert [(row["version"], row["rpm"], row["created_by"]) for row in history["results"]] == [
        (2, None, owner.user.email), (1, 120, owner.user.email)]
    assert history["results"][1]["allowed_providers"] == ["blue-eu"]


def test_the_schema_documents_the_policy_operations(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths[POLICY]) >= {"get", "put"}
    assert set(paths["/api/v1/keys/{key_id}/policy/"]) >= {"get", "put"}
    assert "get" in paths["/api/v1/keys/{key_id}/policy/versions/"]
    assert "get" in paths[VERSIONS] and "get" in paths[VERSIONS + "{version}/"]
    # Tenancy's key routes still resolve beside compliance's.
    assert "/api/v1/keys/{key_id}/revoke/" in paths and "/api/v1/keys/" in paths
    schemas = response.json()["components"]["schemas"]
    assert schemas["KeyPolicy"]["properties"]["rpm"]["maximum"] == 1_000_000
    assert schemas["OrgPolicy"]["properties"]["version"]["readOnly"] is True
