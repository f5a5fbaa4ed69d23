"""Billing roles set the low-balance threshold through the one money parser; bad input is a
form error that changes nothing."""

import pytest

from billing.models import Wallet
from marketplace.tenancy.models import AuditEntry, Role
from tests.tenancy.factories import member

pytestmark = pytest.mark.django_db

PATH = "/dashboard/settings/low-balance/"


def _signed_in(client, membership):
    client.force_login(membership.user)
    return client


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.FINANCE])
def test_billing_roles_set_the_threshold(client, role):
    m = member(role)
    _signed_in(client, m)
    assert 'name="threshold"' in client.get(PATH).content.decode()
    assert 'href="/dashboard/settings/low-balance/"' in client.get(
        "/dashboard/settings/").content.decode()

    response = client.post(PATH, {"threshold": "$1,212.50"}, follow=True)

    assert response.redirect_chain == [(PATH, 302)]
    assert Wallet.objects.get(org=m.org).low_balance_threshold_nanos == 1_212_500_000_000
    assert "The low-balance alert now fires below $1,212.50." in response.content.decode()
    entry = AuditEntry.objects.get(org=m.org, action="wallet.low_balance_threshold_changed")
    assert entry.before == {"low_balance_threshold_nanos": 500_000_000}
    assert entry.after == {"low_balance_threshold_nanos": 1_212_500_000_000}

    client.post(PATH, {"threshold": "0"})
    assert Wallet.objects.get(org=m.org).low_balance_threshold_nanos == 0
    assert 'id="low-balance"' not in client.get("/dashboard/").content.decode()


@pytest.mark.parametrize(("raw", "message"), [
    ("", "Enter a threshold in dollars, like 5.00."),
    ("abc", "Enter a threshold in dollars, like 25.00."),
    ("NaN", "Enter a threshold in dollars, like 25.00."),
    ("1e308", "The threshold must be at most $1,000,000.00."),
    ("-1", "The threshold must be zero or more dollars."),
    ("1.234", "Amounts are in whole cents."),
])
def test_bad_input_is_a_form_error(client, raw, message):
    m = member(Role.OWNER)
    response = _signed_in(client, m).post(PATH, {"threshold": raw})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Wallet.objects.filter(org=m.org).exclude(
        low_balance_threshold_nanos=500_000_000).exists()
    assert not AuditEntry.objects.filter(action="wallet.low_balance_threshold_changed").exists()


@pytest.mark.parametrize("role", [Role.DEVELOPER, Role.VIEWER])
def test_other_roles_cannot(client, role):
    m = member(role)
    _signed_in(client, m)
    assert client.get(PATH).status_code == 403
    assert client.post(PATH, {"threshold": "9"}).status_code == 403
    assert 'href="/dashboard/settings/low-balance/"' not in client.get(
        "/dashboard/settings/").content.decode()
    assert not Wallet.objects.filter(org=m.org, low_balance_threshold_nanos=9_000_000_000).exists()
