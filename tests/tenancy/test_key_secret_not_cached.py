"""Every response that carries a new key's secret says `Cache-Control: no-store`, so neither the
browser's cache nor a proxy keeps a copy (the REST API and the dashboard)."""

import pytest
from django.utils.cache import get_max_age
from rest_framework.test import APIClient

from marketplace.tenancy.models import Role
from tests.tenancy.factories import member

pytestmark = pytest.mark.django_db


def _directives(response) -> set[str]:
    return {d.strip() for d in response.headers.get("Cache-Control", "").split(",")}


def test_the_api_response_with_a_new_key_is_not_stored():
    client = APIClient()
    client.force_login(member(Role.OWNER).user)

    response = client.post("/api/v1/keys/create/", {"name": "ci"}, format="json")

    assert response.status_code == 201
    assert response.json()["key"].startswith("sk-sy-")
    assert "no-store" in _directives(response)


def test_the_dashboard_page_with_a_new_key_is_not_stored(client):
    client.force_login(member(Role.DEVELOPER).user)

    response = client.post("/dashboard/keys/", {"name": "laptop", "scope": "inference"})

    assert response.status_code == 200
    assert response.context["new_key"]["plaintext"].encode() in response.content
    assert "no-store" in _directives(response)
    assert get_max_age(response) == 0
