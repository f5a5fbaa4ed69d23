"""Staff grant promotional credit from the admin: one ledger transaction, audited, once."""

import pytest
from django.contrib.auth import get_user_model

from billing.models import LedgerTransaction, Wallet
from tests.staff import sign_in_with_mfa, staff_user

pytestmark = pytest.mark.django_db


def test_staff_grant_is_audited_and_credited_once(client, org):
    staff = staff_user(operator=False, is_superuser=True)
    sign_in_with_mfa(client, staff)
    wallet = Wallet.objects.get(org=org)
    url = f"/admin/billing/wallet/{wallet.pk}/grant-credit/"

    form_page = client.get(url)
    assert form_page.status_code == 200
    key = form_page.context["form"].initial["idempotency_key"]
    data = {"amount_usd": "12.34", "memo": "conference", "idempotency_key": key}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # a double submit

    wallet.refresh_from_db()
    assert wallet.balance_nanos == 12_340_000_000
    txn = LedgerTransaction.objects.get(org=org)
    assert (txn.kind, txn.actor_id, txn.memo) == ("promotional_credit", staff.pk, "conference")


def test_non_staff_cannot_grant(client, org):
    user = get_user_model().objects.create_user("dev", "dev@example.com", "pw-12345678")
    client.force_login(user)
    wallet = Wallet.objects.get(org=org)
    response = client.post(
        f"/admin/billing/wallet/{wallet.pk}/grant-credit/",
        {"amount_usd": "5", "memo": "x", "idempotency_key": "k"},
    )
    assert response.status_code == 302  # to the admin login
    assert not LedgerTransaction.objects.exists()
    wallet.refresh_from_db()
    assert wallet.balance_nanos == 0


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "sNaN", "1e30", "1000000.01", "0", "0.001"])
def test_hostile_grant_amounts_are_form_errors(client, org, amount):
    sign_in_with_mfa(client, staff_user(operator=False, is_superuser=True))
    wallet = Wallet.objects.get(org=org)
    response = client.post(f"/admin/billing/wallet/{wallet.pk}/grant-credit/",
                           {"amount_usd": amount, "memo": "x", "idempotency_key": "k"})
    assert response.status_code == 200
    assert response.context["form"].errors["amount_usd"]
    assert not LedgerTransaction.objects.exists()
