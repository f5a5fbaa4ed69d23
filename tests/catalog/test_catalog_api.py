"""The catalog management API: reads for members and management keys, staff-only curation."""

import pytest
from rest_framework.test import APIClient

from catalog.models import Endpoint, Model, Price, Provider
from catalog.selectors import get_catalog_version
from tests.staff import sign_in_with_mfa, staff_user
from tests.tenancy.factories import OrganizationFactory, UserFactory, api_key

BASE = "/api/v1/catalog"


@pytest.fixture
def member_client(imported_catalog):
    client = APIClient()
    client.force_authenticate(UserFactory())
    return client


@pytest.fixture
def staff_client(imported_catalog):
    """An operator (staff, in `operators`) signed in with TOTP."""
    return sign_in_with_mfa(APIClient(), staff_user())


def test_anonymous_callers_are_refused(imported_catalog):
    response = APIClient().get(f"{BASE}/models/")
    assert response.status_code in (401, 403)


def test_member_reads_models_providers_endpoints_and_prices(member_client):
    models = member_client.get(f"{BASE}/models/?limit=5").json()
    assert models["count"] == Model.objects.count() and len(models["results"]) == 5

    model = member_client.get(f"{BASE}/models/openai/gpt-4o-mini/").json()
    assert model["slug"] == "openai/gpt-4o-mini" and model["context_length"] == 128000

    providers = member_client.get(f"{BASE}/providers/?limit=100").json()
    assert {p["slug"] for p in providers["results"]} >= {"openai", "sandbox-openai"}

    endpoints = member_client.get(f"{BASE}/endpoints/?model=openai/gpt-4o-mini").json()
    assert {e["provider"] for e in endpoints["results"]} == {
        "openai", "sandbox-openai", "sandbox-openai-b", "sandbox-eu", "sandbox-trains",
        "sandbox-retains"}
    endpoint_id = endpoints["results"][0]["id"]
    prices = member_client.get(f"{BASE}/prices/?endpoint={endpoint_id}").json()
    assert [p["input_nanos_per_m"] for p in prices["results"]] == [150_000_000]


def test_management_key_reads_and_inference_key_is_refused(imported_catalog):
    org = OrganizationFactory()
    _, management = api_key(org, scope="management")
    _, inference = api_key(org, scope="inference")
    client = APIClient()

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {management}")
    assert client.get(f"{BASE}/providers/").status_code == 200
    assert client.post(f"{BASE}/providers/", {}, format="json").status_code == 403

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {inference}")
    assert client.get(f"{BASE}/providers/").status_code == 403


@pytest.mark.parametrize("path", ["/models/nobody/nothing/", "/providers/nobody/",
                                  "/endpoints/999999999/", "/models/openai/gpt-4o%00/"])
def test_unknown_ids_are_404(member_client, path):
    response = member_client.get(f"{BASE}{path}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_filters_that_no_row_can_match_give_empty_lists(member_client):
    for query in ("/endpoints/?model=openai%00", "/endpoints/?provider=" + "p" * 300,
                  "/models/?author=%00"):
        response = member_client.get(f"{BASE}{query}")
        assert response.status_code == 200
        assert response.json()["count"] == 0


def test_member_cannot_curate(member_client):
    before = (Provider.objects.count(), get_catalog_version())
    response = member_client.post(f"{BASE}/providers/", {
        "slug": "acme", "name": "Acme", "wire_format": "openai",
        "base_url": "https://api.acme.test"}, format="json")

    assert response.status_code == 403
    assert (Provider.objects.count(), get_catalog_version()) == before


def test_staff_adds_provider_model_endpoint_and_price_versions(staff_client):
    version = get_catalog_version()
    assert staff_client.post(f"{BASE}/providers/", {
        "slug": "acme", "name": "Acme", "wire_format": "openai",
        "base_url": "https://api.acme.test", "retention_days": 0, "zdr": True,
    }, format="json").status_code == 201
    assert staff_client.post(f"{BASE}/models/", {
        "slug": "acme/acme-1", "name": "Acme: One", "context_length": 32000,
        "input_modalities": ["text"], "supports_tools": True,
    }, format="json").status_code == 201
    created = staff_client.post(f"{BASE}/endpoints/", {
        "model": "acme/acme-1", "provider": "acme", "upstream_model_id": "acme-1",
        "context_length": 32000, "max_output_tokens": 4096,
        "price": {"input_nanos_per_m": 1_000_000_000, "output_nanos_per_m": 2_000_000_000,
                  "source": "https://acme.test/pricing"},
    }, format="json")
    assert created.status_code == 201, created.content
    endpoint_id = created.json()["id"]
    new_price = staff_client.post(f"{BASE}/prices/", {
        "endpoint": endpoint_id, "input_nanos_per_m": 900_000_000,
        "output_nanos_per_m": 2_000_000_000}, format="json")
    assert new_price.status_code == 201

    versions = list(Price.objects.filter(endpoint_id=endpoint_id).order_by("effective_from")
                    .values_list("input_nanos_per_m", flat=True))
    assert versions == [1_000_000_000, 900_000_000]
    assert get_catalog_version() == version + 4

    disabled = staff_client.post(f"{BASE}/endpoints/{endpoint_id}/disable/")
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    assert Endpoint.objects.get(pk=endpoint_id).status == "disabled"
    patched = staff_client.patch(f"{BASE}/models/acme/acme-1/", {"context_length": 64000},
                                 format="json")
    assert patched.status_code == 200 and patched.json()["context_length"] == 64000


@pytest.mark.parametrize("body", [
    {"endpoint": "x", "input_nanos_per_m": 1, "output_nanos_per_m": 1},
    {"endpoint": 1, "input_nanos_per_m": 1.5, "output_nanos_per_m": 1},
    {"endpoint": 1, "input_nanos_per_m": -1, "output_nanos_per_m": 1},
    {"endpoint": 1, "input_nanos_per_m": "2.5", "output_nanos_per_m": 1},
    {"endpoint": 1},
])
def test_malformed_price_is_400_and_writes_nothing(staff_client, body):
    before = (Price.objects.count(), get_catalog_version())
    response = staff_client.post(f"{BASE}/prices/", body, format="json")

    assert response.status_code == 400
    assert (Price.objects.count(), get_catalog_version()) == before


def test_duplicate_and_malformed_curation_are_rejected(staff_client):
    duplicate = staff_client.post(f"{BASE}/endpoints/", {
        "model": "openai/gpt-4o", "provider": "openai", "upstream_model_id": "gpt-4o"},
        format="json")
    assert duplicate.status_code == 409
    bad_slug = staff_client.post(f"{BASE}/models/", {"slug": "no-author", "name": "x"},
                                 format="json")
    assert bad_slug.status_code == 400
    bad_wire = staff_client.post(f"{BASE}/providers/", {
        "slug": "p", "name": "P", "wire_format": "smoke-signals", "base_url": "x"},
        format="json")
    assert bad_wire.status_code == 400
    assert staff_client.get(f"{BASE}/prices/?endpoint=abc").status_code == 400
