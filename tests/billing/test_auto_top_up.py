"""Auto top-up against localstripe: once per threshold crossing, re-armed on recovery,
failures recorded and shown on the wallet page."""

import httpx
import pytest

from billing.models import AutoTopUp, TopUp, Wallet
from billing.services.topups import configure_auto_top_up, run_auto_top_ups
from billing.tasks.topups import auto_top_up

pytestmark = pytest.mark.django_db


def saved_card(localstripe, number: str) -> str:
    response = httpx.post(
        f"{localstripe.url}/v1/payment_methods",
        data={"type": "card", "card[number]": number, "card[exp_month]": "12",
              "card[exp_year]": "2030", "card[cvc]": "123"},
        auth=(localstripe.env["STRIPE_SECRET_KEY"], ""), timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["id"]


def intent(localstripe, pi_id: str) -> dict:
    return httpx.get(f"{localstripe.url}/v1/payment_intents/{pi_id}",
                     auth=(localstripe.env["STRIPE_SECRET_KEY"], ""), timeout=10).json()


def test_fires_once_per_crossing_and_rearms(org, stripe_on, send_event, charge_request):
    configure_auto_top_up(org, enabled=True, threshold_nanos=5 * 10**9, amount_cents=2_000,
                          payment_method_id=saved_card(stripe_on, "4242424242424242"))
    assert AutoTopUp.objects.get(org=org).card_label == "visa ending 4242"

    assert auto_top_up() == 1
    assert run_auto_top_ups() == 0  # same crossing: nothing more
    first = TopUp.objects.get(org=org)
    assert (first.automatic, first.amount_cents) == (True, 2_000)
    paid = intent(stripe_on, first.payment_intent_id)
    assert paid["status"] == "succeeded"
    assert paid["metadata"]["org_id"] == str(org.pk)

    send_event("payment_intent.succeeded", paid)
    assert Wallet.objects.get(org=org).balance_nanos == 20 * 10**9
    assert run_auto_top_ups() == 0  # above the threshold again: re-armed, not fired
    assert AutoTopUp.objects.get(org=org).armed is True

    charge_request(org, upstream_nanos=15 * 10**9, margin_bps=1000, hold_nanos=20 * 10**9)
    assert Wallet.objects.get(org=org).balance_nanos == 20 * 10**9 - 16_500_000_000
    assert run_auto_top_ups() == 1  # a new crossing
    assert TopUp.objects.filter(org=org, automatic=True).count() == 2


def test_a_declined_card_is_recorded_and_shown(org, stripe_on, member_client):
    configure_auto_top_up(org, enabled=True, threshold_nanos=10**9, amount_cents=1_000,
                          payment_method_id=saved_card(stripe_on, "4000000000000341"))
    run_auto_top_ups()
    settings_row = AutoTopUp.objects.get(org=org)
    assert settings_row.last_failure_message
    assert settings_row.armed is False
    assert Wallet.objects.get(org=org).balance_nanos == 0
    page = member_client(org, "owner").get("/billing/wallet/").content.decode()
    assert 'id="auto-topup-failure"' in page
    assert run_auto_top_ups() == 0  # no retry storm within one crossing


def test_off_without_stripe(org, settings):
    AutoTopUp.objects.create(org=org, enabled=True, threshold_nanos=10**9, amount_cents=1_000,
                             payment_method_id="pm_x")
    settings.STRIPE_SECRET_KEY = ""
    assert run_auto_top_ups() == 0
    assert not TopUp.objects.exists()
