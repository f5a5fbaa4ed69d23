"""Catalog curation: integers past their 32-bit columns are a 400 naming the field, not a 500."""

import pytest
from rest_framework.test import APIClient

from catalog.models import Model, Provider
from tests.staff import sign_in_with_mfa, staff_user

pytestmark = pytest.mark.django_db
BASE = "/api/v1/catalog"


@pytest.fixture
def staff_client():
    return sign_in_with_mfa(APIClient(), staff_user())


@pytest.mark.parametrize("value", [2**31, 2**63, 10**30])
def test_oversized_integers_are_400(staff_client, value):
    provider = staff_client.post(f"{BASE}/providers/", {
        "slug": "acme", "name": "Acme", "wire_format": "openai",
        "base_url": "https://api.acme.test", "retention_days": value}, format="json")
    assert provider.status_code == 400
    assert list(provider.json()) == ["retention_days"]
    model = staff_client.post(f"{BASE}/models/", {
        "slug": "acme/big", "name": "Big", "context_length": value}, format="json")
    assert model.status_code == 400
    assert list(model.json()) == ["context_length"]
    price = staff_client.post(f"{BASE}/prices/", {
        "endpoint": value * 2**64, "input_nanos_per_m": 1, "output_nanos_per_m": 1},
        format="json")
    assert price.status_code == 400
    assert list(price.json()) == ["endpoint"]
    assert not Provider.objects.filter(slug="acme").exists()
    assert not Model.objects.filter(slug="acme/big").exists()
