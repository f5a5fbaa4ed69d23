"""BYOK keys through the management API and the dashboard: write-only, owners and admins only,
audited (added, rotated, removed), with bad input answered as field errors."""

from __future__ import annotations

import json
import secrets

import pytest

from catalog import services as catalog_services
from compliance.models import ByokKey
from compliance.selectors import get_byok_credentials
from marketplace.tenancy.models import AuditEntry, Role
from tests.tenancy.factories import api_key, key_client, member, session_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/compliance/byok/"


@pytest.fixture(autouse=True)
def providers(db):
    for slug in ("sandbox-openai", "sandbox-anthropic"):
        catalog_services.create_provider(
            slug=slug, name=slug.replace("-", " ").title(), wire_format="openai",
            base_url=f"sandbox://{slug}/v1", regions=["local"], retention_days=0, zdr=True,
            is_sandbox=True)
    catalog_services.create_provider(
        slug="openai", name="OpenAI", wire_format="openai", base_url="https://api.openai.com/v1",
        regions=["us"], retention_days=30, zdr=False, is_sandbox=False)


def _secret() -> str:
    return "sk-test-" + secrets.token_urlsafe(24)


def _audit_text(org) -> str:
    return json.dumps(list(AuditEntry.objects.filter(org=org).values(
        "action", "actor_label", "target_label", "before", "after")), default=str)


def test_add_list_replace_and_delete_never_answer_the_key():
    owner = member(Role.OWNER)
    client = session_client(owner)
    first, second = _secret(), _secret()

    created = client.post(URL, {"provider": "sandbox-openai", "api_key": first,
                                "always_use": True}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["provider"] == "sandbox-openai" and body["last4"] == first[-4:]
    assert body["always_use"] is True and body["base_url"] == ""
    assert set(body) >= {"id", "provider", "last4", "base_url", "always_use", "created_at"}

    replaced = client.post(URL, {"provider": "sandbox-openai", "api_key": second},
                           format="json")
    assert replaced.status_code == 200 and replaced.json()["id"] == body["id"]
    assert replaced.json()["last4"] == second[-4:] and replaced.json()["always_use"] is False
    listed = client.get(URL)
    assert [row["last4"] for row in listed.json()] == [second[-4:]]
    assert get_byok_credentials(owner.org_id)["sandbox-openai"].api_key == second

    deleted = client.delete(f"{URL}{body['id']}/")
    assert deleted.status_code == 204
    assert client.get(URL).json() == []

    answers = created.content + replaced.content + listed.content + deleted.content
    for secret in (first, second):
        assert secret.encode() not in answers and secret[:12].encode() not in answers
    actions = list(AuditEntry.objects.filter(org=owner.org).order_by("pk")
                   .values_list("action", flat=True))
    assert actions == ["byok_key.added", "byok_key.rotated", "byok_key.removed"]
    audit = _audit_text(owner.org)
    assert first[-4:] in audit and second[-4:] in audit
    for secret in (first, second):
        assert secret not in audit and secret[:12] not in audit
    assert all(row.ciphertext and first not in row.ciphertext for row in ByokKey.objects.all())


def test_only_owners_and_admins_manage_keys_and_another_orgs_key_is_404():
    owner = member(Role.OWNER)
    admin = member(Role.ADMIN, org=owner.org)
    developer = member(Role.DEVELOPER, org=owner.org)
    assert session_client(admin).post(URL, {"provider": "sandbox-openai",
                                            "api_key": _secret()}, format="json").status_code == 201
    row = ByokKey.objects.get(org=owner.org)
    refused = session_client(developer)
    assert refused.get(URL).status_code == 403
    assert refused.post(URL, {"provider": "sandbox-anthropic", "api_key": _secret()},
                        format="json").status_code == 403
    assert refused.delete(f"{URL}{row.pk}/").status_code == 403

    stranger = session_client(member(Role.OWNER))
    assert stranger.delete(f"{URL}{row.pk}/").status_code == 404
    assert stranger.delete(f"{URL}{row.pk + 1000}/").status_code == 404
    assert ByokKey.objects.filter(pk=row.pk).exists()
    assert AuditEntry.objects.filter(org=owner.org).count() == 1


def test_a_management_key_may_add_and_an_inference_key_may_not():
    owner = member(Role.OWNER)
    _, management = api_key(owner.org, scope="management")
    _, inference = api_key(owner.org, scope="inference")
    response = key_client(management).post(URL, {"provider": "sandbox-anthropic",
                                                 "api_key": _secret()}, format="json")
    assert response.status_code == 201
    entry = AuditEntry.objects.get(org=owner.org, action="byok_key.added")
    assert entry.actor_label.startswith("key ")
    assert key_client(inference).get(URL).status_code == 403


@pytest.mark.parametrize(("payload", "field"), [
    ({"provider": "nope", "api_key": "sk-long-enough-1"}, "provider"),
    ({"provider": "openai", "api_key": "sk-long-enough-1"}, "provider"),  # not routed in sandbox
    ({"provider": "sandbox-openai", "api_key": ""}, "api_key"),
    ({"provider": "sandbox-openai", "api_key": "short"}, "api_key"),
    ({"provider": "sandbox-openai", "api_key": "has a space in it"}, "api_key"),
    ({"provider": "sandbox-openai", "api_key": "x" * 513}, "api_key"),
    ({"provider": "sandbox-openai", "api_key": "sk-long-enough-1",
      "base_url": "http://169.254.169.254/latest"}, "base_url"),
    ({"provider": "sandbox-openai", "api_key": "sk-long-enough-1",
      "base_url": "sandbox://sandbox-openai/v1"}, "base_url"),
    ({"provider": "sandbox-openai", "api_key": "sk-long-enough-1",
      "base_url": "https://user:pw@example.com/v1"}, "base_url"),
    ({"provider": "sandbox-openai", "api_key": "sk-long-enough-1", "always_use": "maybe"},
     "always_use"),
])
def test_bad_input_is_a_field_error_and_stores_nothing(payload, field):
    owner = member(Role.OWNER)
    response = session_client(owner).post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert b"sk-long-enough-1" not in response.content
    assert not ByokKey.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="byok_key.").exists()


def test_a_loopback_base_url_is_accepted_under_the_sandbox():
    owner = member(Role.OWNER)
    response = session_client(owner).post(URL, {
        "provider": "sandbox-openai", "api_key": _secret(),
        "base_url": "http://127.0.0.1:9/custom/v1/"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["base_url"] == "http://127.0.0.1:9/custom/v1"


def test_without_a_vault_key_adding_is_a_clear_503(settings):
    settings.VAULT_KEYS = []
    response = session_client(member(Role.OWNER)).post(
        URL, {"provider": "sandbox-openai", "api_key": _secret()}, format="json")
    assert response.status_code == 503
    assert "VAULT_KEYS" in json.dumps(response.json())
    assert not ByokKey.objects.exists()


def test_dashboard_lists_adds_and_removes_keys_with_inline_errors(client):
    owner = member(Role.OWNER)
    client.force_login(owner.user)
    secret = _secret()

    bad = client.post("/compliance/byok/", {"provider": "sandbox-openai", "api_key": secret,
                                            "base_url": "http://10.0.0.1/v1"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "Refused base URL" in page and secret not in page

    added = client.post("/compliance/byok/", {"provider": "sandbox-openai", "api_key": secret,
                                              "always_use": "on"}, follow=True)
    page = added.content.decode()
    assert added.status_code == 200 and f"…{secret[-4:]}" in page
    assert secret not in page and secret[:12] not in page
    row = ByokKey.objects.get(org=owner.org)
    assert row.always_use is True

    from compliance.byok import mark_byok_rejected

    assert mark_byok_rejected(owner.org_id, row.pk) is True
    assert mark_byok_rejected(owner.org_id, row.pk) is False  # once a minute at most
    page = client.get("/compliance/byok/").content.decode()
    assert "the provider rejected this key on" in page.lower() and "replace it" in page

    removed = client.post(f"/compliance/byok/{row.pk}/remove/", follow=True)
    assert removed.status_code == 200 and not ByokKey.objects.exists()
    assert list(AuditEntry.objects.filter(org=owner.org).order_by("pk")
                .values_list("action", flat=True)) == [
        "byok_key.added", "byok_key.rejected", "byok_key.removed"]
    assert secret not in _audit_text(owner.org)


def test_dashboard_page_is_for_owners_and_admins_only(client):
    viewer = member(Role.VIEWER)
    client.force_login(viewer.user)
    assert client.get("/compliance/byok/").status_code == 403
    assert client.post("/compliance/byok/", {"provider": "sandbox-openai",
                                             "api_key": _secret()}).status_code == 403
    assert not ByokKey.objects.exists()
