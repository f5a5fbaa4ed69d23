"""Sign-up credit: a new organization gets SIGNUP_CREDIT_USD once, at most once per verified user,
as promotional credit on a balanced ledger, whether it is created in the dashboard or the API."""

import subprocess
import sys
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.db.models import Sum
from django.test import Client
from rest_framework.test import APIClient

from billing.models import LedgerEntry, LedgerTransaction, SignupCredit, Wallet
from billing.services.ledger import check_wallet_consistency
from marketplace.tenancy.audit import AuditEntry
from marketplace.tenancy.models import Organization
from tests.tenancy.factories import UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
DOLLAR = 10**9


@pytest.fixture(autouse=True)
def one_dollar(settings):
    settings.SIGNUP_CREDIT_NANOS = DOLLAR


def _dashboard_create(user, name: str) -> Organization:
    client = Client()
    client.force_login(user)
    response = client.post("/dashboard/organizations/new/", {"name": name})
    assert response.status_code == 302, response.content
    return Organization.objects.get(name=name)


def _api_create(user, name: str) -> Organization:
    client = APIClient()
    client.force_login(user)
    response = client.post("/api/v1/organizations/create/", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    return Organization.objects.get(pk=response.json()["id"])


def _assert_ledger_balances(org: Organization, wallet_nanos: int) -> None:
    for txn in LedgerTransaction.objects.filter(org=org):
        assert sum(e.amount_nanos for e in txn.entries.all()) == 0
    wallet_sum = LedgerEntry.objects.filter(org=org, account__kind="wallet").aggregate(
        s=Sum("amount_nanos"))["s"] or 0
    assert wallet_sum == wallet_nanos
    assert check_wallet_consistency(org).ok


@pytest.mark.parametrize("create", [_dashboard_create, _api_create], ids=["dashboard", "api"])
def test_a_new_org_gets_the_credit_once_and_the_wallet_shows_it(create):
    user = UserFactory()
    org = create(user, "First Co")

    assert Wallet.objects.get(org=org).balance_nanos == DOLLAR
    credit = LedgerTransaction.objects.get(org=org)
    assert (credit.kind, credit.wallet_delta_nanos) == ("promotional_credit", DOLLAR)
    assert {e.account.kind for e in credit.entries.all()} == {"wallet", "promotional_credit"}
    _assert_ledger_balances(org, DOLLAR)
    granted = AuditEntry.objects.get(org=org, action="signup_credit.granted")
    assert granted.after == {"amount_nanos": DOLLAR, "user_id": user.pk}

    client = Client()
    client.force_login(user)
    page = client.get("/billing/wallet/").content.decode()
    assert 'id="wallet-balance" data-nanos="1000000000">$1.00<' in page
    assert "Sign-up credit" in page

    # The same user's second org, by either route, gets nothing.
    second = _api_create(user, "Second Co")
    third = _dashboard_create(user, "Third Co")
    for other in (second, third):
        assert not LedgerTransaction.objects.filter(org=other).exists()
        assert Wallet.objects.filter(org=other, balance_nanos__gt=0).count() == 0
    assert SignupCredit.objects.filter(user=user).count() == 1


def test_granting_twice_for_one_org_posts_once():
    from billing.services.promotions import grant_signup_credit

    user = UserFactory()
    org = _api_create(user, "Once Co")
    assert grant_signup_credit(org, user) is None
    assert grant_signup_credit(org, UserFactory()) is None  # the org already has its credit
    assert LedgerTransaction.objects.filter(org=org).count() == 1
    assert Wallet.objects.get(org=org).balance_nanos == DOLLAR


def test_an_unverified_user_gets_no_credit_until_they_confirm():
    # An unconfirmed address costs nothing to make: no credit for one.
    user = UserFactory(verified=False)
    org = _api_create(user, "Unverified Co")
    assert not LedgerTransaction.objects.filter(org=org).exists()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    later = _api_create(user, "Verified Co")
    assert Wallet.objects.get(org=later).balance_nanos == DOLLAR


def test_zero_credit_posts_nothing(settings):
    settings.SIGNUP_CREDIT_NANOS = 0
    org = _dashboard_create(UserFactory(), "Zero Co")
    assert not LedgerTransaction.objects.filter(org=org).exists()
    assert not SignupCredit.objects.exists()
    assert not AuditEntry.objects.filter(action="signup_credit.granted").exists()


def _settings_value(**env: str) -> subprocess.CompletedProcess:
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.SIGNUP_CREDIT_NANOS)")
    import os

    environment = {k: v for k, v in os.environ.items() if k not in ("SANDBOX",
                                                                   "SIGNUP_CREDIT_USD")}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**environment, "DJANGO_SETTINGS_MODULE": "marketplace.settings", **env},
    )


def test_the_setting_defaults_by_sandbox_parses_money_and_refuses_bad_values():
    assert _settings_value().stdout.strip() == str(DOLLAR)  # SANDBOX defaults on
    assert _settings_value(SANDBOX="0").stdout.strip() == "0"
    assert _settings_value(SIGNUP_CREDIT_USD="2.50").stdout.strip() == str(2_500_000_000)
    for bad in ("NaN", "-1", "1e308", "ten"):
        refused = _settings_value(SIGNUP_CREDIT_USD=bad)
        assert refused.returncode != 0
        assert "SIGNUP_CREDIT_USD" in refused.stderr, bad
