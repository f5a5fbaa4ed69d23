"""A provider's base URL is checked at every write: https, no internal or metadata address."""

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from catalog import services
from catalog.importer import import_catalog
from catalog.models import Provider
from catalog.selectors import get_catalog_version
from core.errors import InvalidRequest
from tests.staff import sign_in_with_mfa, staff_user

BASE = "/api/v1/catalog"
ROOT = Path(__file__).resolve().parents[2]
REFUSED = [
    "file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL", "http://api.acme.test/v1",
    "https://127.0.0.1:8000/v1", "https://169.254.169.254/latest/meta-data/",
    "https://2130706433/", "https://0177.0.0.1/", "https://0x7f.1/", "https://[::ffff:127.0.0.1]/",
    "https://100.64.0.1/", "https://224.0.0.1/", "https://10.0.0.1/", "https://[fd00::1]/",
    "https://0.0.0.0/", "https://localhost/v1", "https://key:secret@api.acme.test/v1",
]


@pytest.fixture
def production(settings):
    """Production's allow-list: no network is admitted."""
    settings.UPSTREAM_ALLOWED_NETWORKS = []
    return settings


@pytest.fixture
def superuser_client(imported_catalog):
    return sign_in_with_mfa(APIClient(), staff_user())


@pytest.mark.parametrize("url", REFUSED)
def test_the_api_refuses_internal_and_non_https_urls(production, superuser_client, url):
    before = (Provider.objects.count(), get_catalog_version())
    response = superuser_client.post(f"{BASE}/providers/", {
        "slug": "acme", "name": "Acme", "wire_format": "openai", "base_url": url},
        format="json")

    assert response.status_code == 400, response.content
    assert "Refused base URL" in json.dumps(response.json())
    assert (Provider.objects.count(), get_catalog_version()) == before


def test_the_api_refuses_moving_a_provider_to_the_metadata_service(production,
                                                                  superuser_client):
    before = Provider.objects.get(slug="openai").base_url
    response = superuser_client.patch(f"{BASE}/providers/openai/", {
        "base_url": "https://169.254.169.254/v1"}, format="json")

    assert response.status_code == 400
    assert "169.254.169.254 is in the blocked network 169.254.0.0/16" in json.dumps(
        response.json())
    assert Provider.objects.get(slug="openai").base_url == before


def test_public_https_and_sandbox_urls_are_accepted(production, superuser_client):
    for slug, url in (("acme", "https://api.acme.test/v1"), ("box", "sandbox://box/v1")):
        response = superuser_client.post(f"{BASE}/providers/", {
            "slug": slug, "name": slug, "wire_format": "openai", "base_url": url},
            format="json")
        assert response.status_code == 201, response.content
        assert Provider.objects.get(slug=slug).base_url == url


def test_allowed_networks_admit_http_to_them(settings, superuser_client):
    settings.UPSTREAM_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    response = superuser_client.post(f"{BASE}/providers/", {
        "slug": "local", "name": "Local", "wire_format": "openai",
        "base_url": "http://127.0.0.1:18080/v1"}, format="json")
    assert response.status_code == 201, response.content

    refused = superuser_client.post(f"{BASE}/providers/", {
        "slug": "meta", "name": "Meta", "wire_format": "openai",
        "base_url": "http://169.254.169.254/"}, format="json")
    assert refused.status_code == 400


def test_services_refuse_with_the_base_url_param(production, db):
    with pytest.raises(InvalidRequest) as caught:
        services.create_provider(slug="evil", name="Evil", wire_format="openai",
                                 base_url="https://[::ffff:169.254.169.254]/")
    assert caught.value.metadata["param"] == "base_url"
    assert not Provider.objects.filter(slug="evil").exists()


def test_admin_refuses_an_internal_url(production, imported_catalog, client):
    sign_in_with_mfa(client, staff_user())
    version = get_catalog_version()
    response = client.post("/admin/catalog/provider/add/", {
        "slug": "evil", "name": "Evil", "wire_format": "openai",
        "base_url": "gopher://127.0.0.1:6379/_x", "regions": "[]", "status": "active"})

    assert response.status_code == 200
    assert "Refused base URL" in response.content.decode()
    assert not Provider.objects.filter(slug="evil").exists()
    assert get_catalog_version() == version


def test_the_importer_refuses_an_internal_url(production, db, catalog_fixture):
    fixture = copy.deepcopy(catalog_fixture)
    fixture["providers"][0]["base_url"] = "http://169.254.169.254/v1"

    with pytest.raises(ValidationError, match="169.254"):
        import_catalog(fixture, sandbox=False)
    assert Provider.objects.count() == 0


@pytest.mark.parametrize("sandbox, expected", [("1", ["127.0.0.0/8", "::1/128"]), ("0", [])])
def test_loopback_is_allowed_by_default_only_under_sandbox(sandbox, expected):
    env = {k: v for k, v in os.environ.items() if k != "UPSTREAM_ALLOWED_NETWORKS"}
    out = subprocess.run(
        [sys.executable, "-c", "import json; from django.conf import settings; "
         "print(json.dumps(settings.UPSTREAM_ALLOWED_NETWORKS))"],
        cwd=ROOT, env={**env, "SANDBOX": sandbox, "DJANGO_SETTINGS_MODULE": "marketplace.settings"},
        check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == expected
