"""Dashboard money inputs that once answered 500: form errors; Stripe down: a friendly 503."""

import socket

import pytest

from billing.models import AutoTopUp, LedgerTransaction, StripeCustomer, TopUp
from core.money import NANOS_PER_USD

pytestmark = pytest.mark.django_db

HOSTILE = ["Infinity", "-Infinity", "NaN", "sNaN", "1e30", "1e308", str(2**63), "12.345", "abc"]


@pytest.mark.parametrize("amount", HOSTILE)
def test_top_up_amounts_are_a_json_400(org, member_client, stripe_on, amount):
    response = member_client(org, "owner").post("/billing/wallet/top-up/", {"amount": amount})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"] in {"Enter an amount in dollars, like 25.00.",
                                "The amount must be at most $10,000.00.",
                                "Amounts are in whole cents."}
    assert not TopUp.objects.exists()


@pytest.mark.parametrize("field", ["threshold", "amount"])
@pytest.mark.parametrize("value", HOSTILE)
def test_auto_top_up_amounts_are_a_form_error(org, member_client, field, value):
    client = member_client(org, "owner")
    form = {"threshold": "5.00", "amount": "25.00", field: value}
    response = client.post("/billing/wallet/auto-top-up/", form, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [("/billing/wallet/", 302)]
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and "saved" not in messages[0], messages
    assert not AutoTopUp.objects.exists()


def test_a_threshold_in_range_is_saved_exactly(org, member_client):
    client = member_client(org, "owner")
    client.post("/billing/wallet/auto-top-up/", {"threshold": "$1,234.50", "amount": "25"})
    row = AutoTopUp.objects.get(org=org)
    assert (row.threshold_nanos, row.amount_cents) == (1_234_500_000_000, 2_500)
    assert row.threshold_nanos == 1234.5 * NANOS_PER_USD


@pytest.fixture
def stripe_down(stripe_on, settings):
    """Stripe configured, but its API address is a closed port: every call fails to connect."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"
    return settings


def test_top_up_while_stripe_is_unreachable_is_a_503(org, member_client, stripe_down):
    client = member_client(org, "owner")
    response = client.post("/billing/wallet/top-up/", {"amount": "25"})
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    error = response.json()["error"]
    assert error["code"] == "stripe_unreachable"
    assert "Nothing was charged" in error["message"]

    page = client.post("/billing/wallet/top-up/", {"amount": "25"}, HTTP_ACCEPT="text/html")
    assert page.status_code == 503
    assert "Payments are unavailable right now" in page.content.decode()
    assert not TopUp.objects.exists() and not StripeCustomer.objects.exists()


def test_card_setup_while_stripe_is_unreachable_is_a_503(org, member_client, stripe_down):
    response = member_client(org, "admin").post("/billing/wallet/card-setup/")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "stripe_unreachable"


def test_top_up_with_a_known_customer_while_stripe_is_unreachable(org, member_client,
                                                                  stripe_down):
    StripeCustomer.objects.create(org=org, customer_id="cus_known")
    response = member_client(org, "owner").post("/billing/wallet/top-up/", {"amount": "25"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "stripe_unreachable"
    # The attempt is kept, marked failed, so a success webhook Stripe may still send credits it.
    assert list(TopUp.objects.values_list("status", "payment_intent_id")) == [("failed", None)]
    assert not LedgerTransaction.objects.exists()


def test_saving_a_card_for_auto_top_up_while_stripe_is_unreachable(org, member_client,
                                                                  stripe_down):
    response = member_client(org, "owner").post(
        "/billing/wallet/auto-top-up/",
        {"threshold": "5", "amount": "25", "payment_method": "pm_x"}, HTTP_ACCEPT="text/html")
    assert response.status_code == 503
    assert "Payments are unavailable right now" in response.content.decode()
    assert not AutoTopUp.objects.filter(payment_method_id="pm_x").exists()


def test_usage_page_with_an_impossible_date_is_a_form_error(org, member_client):
    response = member_client(org, "finance").get("/billing/usage/", {"since": "2026-02-30"})
    assert response.status_code == 400
    assert 'id="filter-error"' in response.content.decode()
    assert "since must be a date as YYYY-MM-DD." in response.content.decode()
