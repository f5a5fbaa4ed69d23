"""VAULT_KEYS in the settings: the development key generated once beside the SQLite file,
production without one, malformed keys refused, and the start-up check that refuses to run
with stored BYOK keys and no vault key. Settings are read once per process, so each case is a
fresh one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from compliance.checks import vault_keys_for_stored_keys
from compliance.models import ByokKey
from tests.compliance.test_vault import OWNER, _key, _provider
from tests.tenancy.factories import member
from tests.test_production_settings import CONTROLLED, PRODUCTION

ROOT = Path(__file__).resolve().parents[2]


def _vault_keys(database: Path, **env: str) -> subprocess.CompletedProcess:
    child = {k: v for k, v in os.environ.items()
             if k != "VAULT_KEYS" and k not in CONTROLLED}
    child.update(DJANGO_SETTINGS_MODULE="marketplace.settings",
                 DATABASE_URL=f"sqlite:///{database}", **env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import "
         "settings; print(','.join(settings.VAULT_KEYS))"],
        cwd=ROOT, env=child, capture_output=True, text=True, timeout=120)


def test_the_embedded_default_generates_one_development_key_beside_the_sqlite_file(tmp_path):
    database = tmp_path / "db.sqlite3"
    first = _vault_keys(database)
    assert first.returncode == 0, first.stderr
    stored = (tmp_path / "db.sqlite3-vault.key").read_text().strip()
    assert first.stdout.strip() == stored
    Fernet(stored.encode())  # a real Fernet key
    second = _vault_keys(database)
    assert second.stdout.strip() == stored  # kept, not regenerated
    assert stored not in first.stderr + second.stderr


def test_production_generates_none_and_a_malformed_key_refuses_to_start(tmp_path):
    database = tmp_path / "prod.sqlite3"
    production = _vault_keys(database, **PRODUCTION)
    assert production.returncode == 0, production.stderr
    assert production.stdout.strip() == ""
    assert not (tmp_path / "prod.sqlite3-vault.key").exists()

    given = Fernet.generate_key().decode()
    assert _vault_keys(database, VAULT_KEYS=given, **PRODUCTION).stdout.strip() == given
    bad = _vault_keys(database, VAULT_KEYS="not-a-fernet-key")
    assert bad.returncode != 0 and "VAULT_KEYS" in bad.stderr


@pytest.mark.django_db
def test_stored_keys_without_a_vault_key_fail_the_start_up_check(settings):
    assert vault_keys_for_stored_keys() == []
    _provider("sbx-check")
    from compliance.byok import add_byok_key

    add_byok_key(org=member().org, actor=OWNER, provider="sbx-check", api_key=_key())
    assert vault_keys_for_stored_keys() == []
    settings.VAULT_KEYS = []
    errors = vault_keys_for_stored_keys()
    assert [e.id for e in errors] == ["compliance.E001"]
    assert ByokKey.objects.count() == 1
