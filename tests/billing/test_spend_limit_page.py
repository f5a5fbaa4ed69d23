"""The dashboard page that sets a key's spend limit: owners and admins only, org-scoped."""

import pytest
from django.test import Client

from billing.models import KeySpendLimit
from billing.services.ledger import ensure_wallet
from marketplace.tenancy.models import Role
from tests.tenancy.factories import api_key, member

pytestmark = pytest.mark.django_db


def _client(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _url(key_id) -> str:
    return f"/billing/keys/{key_id}/spend-limit/"


def test_owner_sets_changes_and_removes_a_limit_from_the_dashboard():
    owner = member(Role.OWNER)
    ensure_wallet(owner.org)
    key, _ = api_key(owner.org, name="ci")
    client = _client(owner)

    assert "Spend limit" in client.get("/dashboard/keys/").content.decode()
    page = client.get(_url(key.pk))
    assert page.status_code == 200
    assert "none" in page.content.decode()

    saved = client.post(_url(key.pk), {"limit": "12.50", "period": "month"})
    assert saved.status_code == 302
    limit = KeySpendLimit.objects.get(api_key=key)
    assert (limit.org_id, limit.limit_nanos, limit.period) == (
        owner.org_id, 12_500_000_000, "month")
    shown = client.get(_url(key.pk)).content.decode()
    assert "$12.500000000" in shown and 'value="12.5"' in shown

    client.post(_url(key.pk), {"limit": "100", "period": "month"})
    assert KeySpendLimit.objects.get(api_key=key).limit_nanos == 100_000_000_000
    assert 'value="100"' in client.get(_url(key.pk)).content.decode()

    client.post(_url(key.pk), {"clear": "1"})
    assert not KeySpendLimit.objects.filter(api_key=key).exists()


@pytest.mark.parametrize("form, field", [
    ({"limit": "ten dollars", "period": "day"}, "Enter a limit in dollars"),
    ({"limit": "-1", "period": "day"}, "zero or more"),
    ({"limit": "NaN", "period": "day"}, "Enter a limit in dollars"),
    ({"limit": "1e30", "period": "day"}, "The limit must be at most $1,000,000,000.00."),
    ({"limit": str(2**63), "period": "day"}, "The limit must be at most $1,000,000,000.00."),
    ({"limit": "sNaN", "period": "day"}, "Enter a limit in dollars"),
    ({"limit": "5", "period": "fortnight"}, "period must be one of"),
])
def test_bad_input_is_a_form_error_and_writes_nothing(form, field):
    owner = member(Role.OWNER)
    key, _ = api_key(owner.org)
    answer = _client(owner).post(_url(key.pk), form)
    assert answer.status_code == 400
    assert field in answer.content.decode()
    assert not KeySpendLimit.objects.exists()


@pytest.mark.parametrize("role", [Role.DEVELOPER, Role.FINANCE, Role.VIEWER])
def test_other_roles_cannot_set_limits(role):
    owner = member(Role.OWNER)
    key, _ = api_key(owner.org)
    other = member(role, org=owner.org)
    client = _client(other)
    assert client.get(_url(key.pk)).status_code == 403
    assert client.post(_url(key.pk), {"limit": "1", "period": "day"}).status_code == 403
    assert not KeySpendLimit.objects.exists()


def test_another_orgs_key_is_404_and_changes_nothing():
    mine = member(Role.OWNER)
    theirs = member(Role.OWNER)
    their_key, _ = api_key(theirs.org)
    client = _client(mine)
    assert client.get(_url(their_key.pk)).status_code == 404
    assert client.post(_url(their_key.pk), {"limit": "1", "period": "day"}).status_code == 404
    assert not KeySpendLimit.objects.exists()
