"""A management API body nested past Python's recursion limit is DRF's 400, not a 500."""

import pytest
from rest_framework.test import APIClient

from marketplace.tenancy.models import ApiKey
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("depth", "error"), [
    (300, {"name": ["Not a valid string."]}),
    (1_100, {"detail": "JSON parse error - the body is nested too deeply."}),
    (100_000, {"detail": "JSON parse error - the body is nested too deeply."}),
])
def test_deeply_nested_bodies_are_400(depth, error):
    owner = member("owner")
    _, plaintext = api_key(owner.org, scope="management")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    before = ApiKey.objects.count()
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    response = client.post("/api/v1/keys/create/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == error
    assert ApiKey.objects.count() == before
