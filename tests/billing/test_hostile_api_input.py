"""Management API inputs that once answered 500 now answer DRF's 400 naming the parameter."""

import pytest
from rest_framework.test import APIClient

from billing.models import KeySpendLimit
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.django_db
MAX_SPEND_LIMIT_NANOS = 10**18  # $1,000,000,000: the documented bound


@pytest.fixture
def owner():
    return member("owner")


@pytest.fixture
def client(owner):
    _, plaintext = api_key(owner.org, scope="management")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def _field_error(response, field: str) -> str:
    assert response.status_code == 400, (response.status_code, response.content)
    body = response.json()
    assert list(body) == [field], body
    assert isinstance(body[field], list) and isinstance(body[field][0], str)
    return body[field][0]


@pytest.mark.parametrize(("payload", "field"), [
    ({"limit_nanos": 2**63}, "limit_nanos"),
    ({"limit_nanos": MAX_SPEND_LIMIT_NANOS + 1}, "limit_nanos"),
    ({"limit_usd": "1e30"}, "limit_usd"),
    ({"limit_usd": str(2**63)}, "limit_usd"),
    ({"limit_usd": 2**63}, "limit_usd"),
    ({"limit_usd": "1000000000.000000001"}, "limit_usd"),
    ({"limit_usd": "NaN"}, "limit_usd"),
    ({"limit_usd": "Infinity"}, "limit_usd"),
    ({"limit_usd": "-Infinity"}, "limit_usd"),
    ({"limit_usd": "sNaN"}, "limit_usd"),
    ({"limit_usd": True}, "limit_usd"),
])
def test_spend_limits_at_or_above_the_bound_are_400(owner, client, payload, field):
    key, _ = api_key(owner.org)
    response = client.put(f"/api/v1/billing/keys/{key.pk}/spend-limit",
                          {**payload, "period": "day"}, format="json")
    assert _field_error(response, field)
    assert not KeySpendLimit.objects.exists()


def test_the_largest_spend_limit_fits(owner, client):
    key, _ = api_key(owner.org)
    response = client.put(f"/api/v1/billing/keys/{key.pk}/spend-limit",
                          {"limit_usd": "1000000000", "period": "total"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["limit_nanos"] == MAX_SPEND_LIMIT_NANOS


@pytest.mark.parametrize(("query", "field"), [
    ("since=2026-02-30", "since"),
    ("until=2026-13-01", "until"),
    ("since=9999-12-31", "since"),
    ("since=yesterday", "since"),
    ("key=%C2%B2", "key"),
    ("key=" + "9" * 30, "key"),
    ("key=-1", "key"),
    ("limit=" + "1" + "0" * 30, "limit"),
    ("limit=0", "limit"),
    ("limit=501", "limit"),
    ("limit=ten", "limit"),
    ("offset=" + "1" + "0" * 30, "offset"),
    ("offset=-1", "offset"),
])
def test_usage_filters_out_of_range_are_400(client, query, field):
    assert _field_error(client.get(f"/api/v1/billing/usage/?{query}"), field)


@pytest.mark.parametrize("path", [
    "/api/v1/billing/wallet/transactions/?since=2026-02-30",
    "/api/v1/billing/invoices/?limit=1000000000000000000000000000000",
    "/api/v1/keys/?offset=1000000000000000000000000000000",
    "/api/v1/members/?limit=-5",
    "/api/v1/catalog/models/?limit=1000000000000000000000000000000",
    "/api/v1/catalog/prices/?endpoint=%C2%B2",
])
def test_every_list_bounds_its_parameters(client, path):
    response = client.get(path)
    assert response.status_code == 400, response.content


def test_in_range_pages_still_work(client):
    response = client.get("/api/v1/billing/usage/?limit=500&offset=1000000000&since=2026-02-28")
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.postgres
@pytest.mark.parametrize(("query", "field"), [
    ("model=openai%00", "model"), ("provider=%00", "provider"), ("kind=%00x", "kind"),
])
def test_nul_in_filters_is_400_on_postgresql(client, query, field):
    assert _field_error(client.get(f"/api/v1/billing/usage/?{query}"), field)
    assert _field_error(client.get(f"/api/v1/billing/wallet/transactions/?{query}"), field)
