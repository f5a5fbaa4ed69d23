"""Key minting, the keyed hash, get_key_auth, revocation, expiry and last-used batching."""

import datetime as dt
import re

import pytest
from django.test import override_settings
from django.utils import timezone

from core.errors import Forbidden, InvalidRequest
from marketplace.tenancy import key_services
from marketplace.tenancy.keys import generate_api_key, hash_api_key
from marketplace.tenancy.models import ApiKey, KeyScope, Role
from marketplace.tenancy.roles import Actor
from marketplace.tenancy.selectors import get_key_auth
from tests.tenancy.factories import OrganizationFactory, api_key, member

pytestmark = pytest.mark.django_db


def test_generated_key_has_the_documented_shape():
    plaintext, prefix, key_hash = generate_api_key()
    assert re.fullmatch(r"sk-sy-[A-Za-z0-9_-]{40,}", plaintext)
    assert prefix == plaintext[:14]
    assert key_hash == hash_api_key(plaintext)
    assert re.fullmatch(r"[0-9a-f]{64}", key_hash)


def test_keys_are_unique_and_the_hash_depends_on_the_secret():
    keys = {generate_api_key()[0] for _ in range(200)}
    assert len(keys) == 200
    plaintext = next(iter(keys))
    assert hash_api_key(plaintext, secret="one") != hash_api_key(plaintext, secret="two")
    with override_settings(API_KEY_HASH_SECRET="other"):
        assert hash_api_key(plaintext) == hash_api_key(plaintext, secret="other")


def test_get_key_auth_describes_a_fresh_key():
    org = OrganizationFactory()
    key, plaintext = api_key(org, name="ci", scope=KeyScope.MANAGEMENT)
    auth = get_key_auth(hash_api_key(plaintext))
    assert auth is not None
    assert (auth.key_id, auth.org_id, auth.scope, auth.name, auth.prefix) == (
        key.pk, org.pk, "management", "ci", plaintext[:14]
    )
    assert auth.revoked is False and auth.expires_at is None
    assert auth.is_usable()


def test_unknown_key_gives_none():
    assert get_key_auth(hash_api_key("sk-sy-" + "x" * 43)) is None


def test_revoked_key_is_refused():
    owner = member(Role.OWNER)
    key, plaintext = api_key(owner.org)
    key_services.revoke_api_key(org=owner.org, key=key,
                                actor=Actor(role=Role.OWNER, user=owner.user))
    auth = get_key_auth(hash_api_key(plaintext))
    assert auth.revoked is True
    assert not auth.is_usable()
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_expired_key_is_refused():
    org = OrganizationFactory()
    expires = timezone.now() + dt.timedelta(hours=1)
    _, plaintext = api_key(org, expires_at=expires)
    auth = get_key_auth(hash_api_key(plaintext))
    assert auth.is_usable(now=expires - dt.timedelta(seconds=1))
    assert not auth.is_usable(now=expires)


def test_expiry_in_the_past_is_rejected():
    org = OrganizationFactory()
    with pytest.raises(InvalidRequest) as error:
        api_key(org, expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert error.value.metadata["param"] == "expires_at"
    assert ApiKey.objects.count() == 0


@pytest.mark.parametrize("role", [Role.DEVELOPER, Role.FINANCE, Role.VIEWER])
def test_only_owners_and_admins_mint_management_keys(role):
    m = member(role)
    with pytest.raises(Forbidden):
        key_services.create_api_key(
            org=m.org, name="x", scope=KeyScope.MANAGEMENT, actor=Actor(role=role, user=m.user)
        )
    assert ApiKey.objects.count() == 0


@pytest.mark.parametrize("role", [Role.FINANCE, Role.VIEWER])
def test_finance_and_viewers_mint_no_key_at_all(role):
    m = member(role)
    with pytest.raises(Forbidden):
        key_services.create_api_key(org=m.org, name="x", actor=Actor(role=role, user=m.user))
    assert ApiKey.objects.count() == 0


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_mint_management_keys(role):
    m = member(role)
    key, _ = key_services.create_api_key(
        org=m.org, name="ops", scope=KeyScope.MANAGEMENT, actor=Actor(role=role, user=m.user)
    )
    assert key.scope == "management" and key.created_by == m.user


def test_record_keys_used_only_moves_forward():
    org = OrganizationFactory()
    a, _ = api_key(org, name="a")
    b, _ = api_key(org, name="b")
    t1 = timezone.now().replace(microsecond=0)
    t0 = t1 - dt.timedelta(minutes=5)
    key_services.record_keys_used({a.pk: t1, b.pk: t0})
    key_services.record_keys_used({a.pk: t0})
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.last_used_at == t1
    assert b.last_used_at == t0
