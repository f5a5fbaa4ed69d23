"""Org-key authentication on /v1 against a real uvicorn process."""

import datetime as dt
import time

import httpx
import pytest
from django.utils import timezone

from marketplace.tenancy.key_services import create_api_key, revoke_api_key
from marketplace.tenancy.models import ApiKey, KeyScope, Role
from marketplace.tenancy.roles import Actor


def _get(gateway, path, **headers):
    return httpx.get(f"{gateway.url}{path}", headers=headers, timeout=10)


def test_missing_malformed_and_unknown_keys_get_401_openai_errors(gateway):
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nope"},
                    {"Authorization": "Bearer sk-sy-" + "x" * 43}):
        response = _get(gateway, "/v1/models", **headers)
        assert response.status_code == 401, headers
        error = response.json()["error"]
        assert error["code"] == 401
        assert error["type"] == "authentication_error"
        assert response.headers["x-request-id"].startswith("gen-")
        assert float(response.headers["x-switchyard-overhead-ms"]) >= 0


def test_valid_inference_key_lists_models_and_records_last_used(make_org_key, start_gateway):
    org_key = make_org_key()
    gateway = start_gateway(GATEWAY_LAST_USED_FLUSH_S="0.2")
    response = _get(gateway, "/v1/models", Authorization=f"Bearer {org_key.plaintext}")

    assert response.status_code == 200
    assert response.json()["data"] is not None
    deadline = time.monotonic() + 5
    while ApiKey.objects.get(pk=org_key.key.pk).last_used_at is None:
        assert time.monotonic() < deadline, "last_used_at never recorded"
        time.sleep(0.1)


def test_management_key_is_forbidden_on_v1(make_org_key, gateway):
    org_key = make_org_key(scope=KeyScope.MANAGEMENT)
    response = _get(gateway, "/v1/models", Authorization=f"Bearer {org_key.plaintext}")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == 403


def test_expired_key_gets_401(make_org_key, gateway):
    org_key = make_org_key(expires_at=timezone.now() + dt.timedelta(hours=1))
    auth = {"Authorization": f"Bearer {org_key.plaintext}"}
    assert _get(gateway, "/v1/models", **auth).status_code == 200

    # Its expiry passes (set directly: minting refuses a past expiry, rightly).
    ApiKey.objects.filter(pk=org_key.key.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1))
    deadline = time.monotonic() + 1.5
    while (response := _get(gateway, "/v1/models", **auth)).status_code == 200:
        assert time.monotonic() < deadline, "expired key still accepted"
        time.sleep(0.05)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def _revoke_and_time_401(org_key, gateway, presented=None):
    """Revoke `org_key`; return how long until `presented` (default: that key) gets 401."""
    auth = {"Authorization": f"Bearer {presented or org_key.plaintext}"}
    assert _get(gateway, "/v1/models", **auth).status_code == 200
    owner = org_key.org.memberships.get(role=Role.OWNER).user
    revoke_api_key(org=org_key.org, key=org_key.key, actor=Actor(role=Role.OWNER, user=owner))
    revoked_at = time.monotonic()
    while _get(gateway, "/v1/models", **auth).status_code == 200:
        assert time.monotonic() - revoked_at < 1.5, "revoked key still accepted after 1.5 s"
        time.sleep(0.02)
    return time.monotonic() - revoked_at


def test_revocation_takes_effect_within_a_second_without_redis(make_org_key, start_gateway):
    org_key = make_org_key()
    gateway = start_gateway(REDIS_URL="")
    assert _revoke_and_time_401(org_key, gateway) <= 1.2


@pytest.mark.redis
def test_revocation_is_pushed_through_redis(make_org_key, gateway):
    org_key = make_org_key()
    # A long-lived cache entry would survive the TTL race; Redis must drop it at once.
    assert _revoke_and_time_401(org_key, gateway) < 0.5


@pytest.mark.redis
def test_a_child_key_stops_working_when_its_parent_is_revoked(make_org_key, gateway):
    parent = make_org_key(scope=KeyScope.MANAGEMENT)
    child, plaintext = create_api_key(org=parent.org, name="minted by a key",
                                      actor=Actor(role=Role.ADMIN, api_key_id=parent.key.pk))
    assert _revoke_and_time_401(parent, gateway, presented=plaintext) <= 1.0
    assert ApiKey.objects.get(pk=child.pk).revoked_at is not None
