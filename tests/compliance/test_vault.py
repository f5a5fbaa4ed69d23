"""The BYOK vault: encryption round trip, binding to the org, rotation under VAULT_KEYS, and the
clear error without a vault key."""

from __future__ import annotations

import io
import secrets

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog import services as catalog_services
from compliance import vault
from compliance.byok import add_byok_key
from compliance.models import ByokKey
from compliance.selectors import get_byok_credentials
from marketplace.tenancy.models import Role
from marketplace.tenancy.roles import Actor
from tests.tenancy.factories import member

pytestmark = pytest.mark.django_db

OWNER = Actor(role=Role.OWNER)


def _provider(slug: str):
    return catalog_services.create_provider(
        slug=slug, name=slug.title(), wire_format="openai", base_url=f"sandbox://{slug}/v1",
        regions=["local"], retention_days=0, zdr=True, is_sandbox=True)


def _key() -> str:
    return "byok" + secrets.token_hex(20)


@pytest.fixture
def two_keys(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.VAULT_KEYS = [old]
    return old, new


def test_round_trip_and_the_key_is_bound_to_its_org(two_keys):
    org_a, org_b = member().org, member().org
    plaintext = _key()
    token = vault.encrypt(org_a.pk, plaintext)

    assert plaintext not in token
    assert vault.decrypt(org_a.pk, token) == plaintext
    with pytest.raises(vault.VaultDecryptError):
        vault.decrypt(org_b.pk, token)


def test_a_ciphertext_copied_to_another_orgs_row_fails_to_decrypt(two_keys):
    org_a, org_b = member().org, member().org
    openai, other = _provider("sbx-a"), _provider("sbx-b")
    key_a = _key()
    add_byok_key(org=org_a, actor=OWNER, provider="sbx-a", api_key=key_a)
    add_byok_key(org=org_b, actor=OWNER, provider="sbx-b", api_key=_key())
    assert get_byok_credentials(org_a.pk)["sbx-a"].api_key == key_a

    # An attacker with database access moves org A's ciphertext onto org B's row.
    stolen = ByokKey.objects.get(org=org_a, provider=openai).ciphertext
    ByokKey.objects.filter(org=org_b, provider=other).update(ciphertext=stolen)

    assert "sbx-b" not in get_byok_credentials(org_b.pk)
    with pytest.raises(vault.VaultDecryptError):
        vault.decrypt(org_b.pk, stolen)
    assert all(c.api_key != key_a for c in get_byok_credentials(org_b.pk).values())


def test_rotation_re_encrypts_every_row_under_the_newest_key(two_keys, settings):
    old, new = two_keys
    providers = [_provider(f"sbx-rot-{i}") for i in range(3)]
    orgs = [member().org for _ in range(2)]
    plaintexts = {}
    for org in orgs:
        for provider in providers:
            plaintexts[(org.pk, provider.slug)] = _key()
            add_byok_key(org=org, actor=OWNER, provider=provider.slug,
                         api_key=plaintexts[(org.pk, provider.slug)])
    before = dict(ByokKey.objects.values_list("pk", "ciphertext"))

    settings.VAULT_KEYS = [new, old]
    out = io.StringIO()
    call_command("rotate_vault", stdout=out)
    assert "rotated 6 BYOK keys; 0 were already" in out.getvalue()
    after = dict(ByokKey.objects.values_list("pk", "ciphertext"))
    assert after.keys() == before.keys()
    assert all(after[pk] != before[pk] for pk in before)

    # Every row now opens under the new key alone, to the same plaintext.
    settings.VAULT_KEYS = [new]
    for org in orgs:
        got = {slug: c.api_key for slug, c in get_byok_credentials(org.pk).items()}
        assert got == {slug: key for (org_id, slug), key in plaintexts.items()
                       if org_id == org.pk}

    # Idempotent: a second run has nothing to do.
    settings.VAULT_KEYS = [new, old]
    out = io.StringIO()
    call_command("rotate_vault", stdout=out)
    assert "rotated 0 BYOK keys; 6 were already" in out.getvalue()
    assert dict(ByokKey.objects.values_list("pk", "ciphertext")) == after


def test_rotation_refuses_when_a_row_opens_under_no_key_and_changes_nothing(two_keys, settings):
    old, new = two_keys
    org = member().org
    _provider("sbx-x")
    _provider("sbx-y")
    add_byok_key(org=org, actor=OWNER, provider="sbx-x", api_key=_key())
    settings.VAULT_KEYS = [Fernet.generate_key().decode()]
    add_byok_key(org=org, actor=OWNER, provider="sbx-y", api_key=_key())
    before = dict(ByokKey.objects.values_list("pk", "ciphertext"))

    settings.VAULT_KEYS = [new, old]  # the key of sbx-y's row was dropped
    with pytest.raises(CommandError, match="opens under none of VAULT_KEYS"):
        call_command("rotate_vault", stdout=io.StringIO())
    assert dict(ByokKey.objects.values_list("pk", "ciphertext")) == before


def test_adding_a_key_without_a_vault_key_is_a_clear_error(settings):
    settings.VAULT_KEYS = []
    org = member().org
    _provider("sbx-none")
    with pytest.raises(vault.VaultNotConfigured, match="VAULT_KEYS"):
        add_byok_key(org=org, actor=OWNER, provider="sbx-none", api_key=_key())
    assert not ByokKey.objects.exists()
    with pytest.raises(CommandError, match="VAULT_KEYS"):
        call_command("rotate_vault", stdout=io.StringIO())


def test_decrypted_keys_are_known_to_the_log_filter(two_keys):
    from core.redaction import LIVE_SECRETS

    org = member().org
    _provider("sbx-live")
    plaintext = _key()
    add_byok_key(org=org, actor=OWNER, provider="sbx-live", api_key=plaintext)
    credentials = get_byok_credentials(org.pk)
    assert plaintext in LIVE_SECRETS.values()
    assert plaintext not in repr(credentials)
    del credentials
    import gc

    gc.collect()
    assert plaintext not in LIVE_SECRETS.values()
