"""Stripe webhooks against localstripe: credit once per PaymentIntent, reversals, rejections."""

import time

import httpx
import pytest
from billing_stripe_events import sign_event

from billing.models import LedgerTransaction, TopUp, Wallet
from billing.services.ledger import check_wallet_consistency
from billing.services.topups import create_top_up

pytestmark = pytest.mark.django_db

CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2030", "cvc": "123"}


def stripe_api(localstripe, method: str, path: str, data=None) -> dict:
    """Talk to localstripe directly, as the card holder's browser or Stripe itself would."""
    response = httpx.request(
        method, f"{localstripe.url}/v1/{path}", data=data,
        auth=(localstripe.env["STRIPE_SECRET_KEY"], ""), timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def card_payment_method(localstripe) -> str:
    data = {"type": "card", **{f"card[{k}]": v for k, v in CARD.items()}}
    return stripe_api(localstripe, "POST", "payment_methods", data)["id"]


def paid_intent(localstripe, org, amount_cents=2_500) -> tuple[TopUp, dict]:
    """Create the intent through our service, then confirm it through localstripe."""
    top_up, intent = create_top_up(org, amount_cents)
    assert intent.status == "requires_payment_method"
    pm = card_payment_method(localstripe)
    stripe_api(localstripe, "POST", f"payment_intents/{intent.id}", {"payment_method": pm})
    confirmed = stripe_api(localstripe, "POST", f"payment_intents/{intent.id}/confirm")
    assert confirmed["status"] == "succeeded"
    return top_up, confirmed


def balance(org) -> int:
    return Wallet.objects.get(org=org).balance_nanos


def test_each_payment_is_credited_once_however_often_and_in_whatever_order(
    org, stripe_on, send_event
):
    first, first_pi = paid_intent(stripe_on, org, 2_500)
    second, second_pi = paid_intent(stripe_on, org, 1_000)
    failed_view = {**first_pi, "status": "requires_payment_method",
                   "last_payment_error": {"message": "declined"}}

    # Three deliveries of each success with new event ids, interleaved, plus a stale failure.
    for pi in (second_pi, first_pi, second_pi):
        assert send_event("payment_intent.succeeded", pi).status_code == 200
    assert send_event("payment_intent.payment_failed", failed_view).status_code == 200
    for pi in (first_pi, first_pi, second_pi):
        assert send_event("payment_intent.succeeded", pi).status_code == 200

    assert balance(org) == 35 * 10**9
    assert LedgerTransaction.objects.filter(org=org, kind="top_up").count() == 2
    assert set(TopUp.objects.values_list("status", flat=True)) == {"succeeded"}
    assert check_wallet_consistency(org).ok


def test_refunds_and_disputes_post_reversals_once(org, stripe_on, send_event):
    top_up, pi = paid_intent(stripe_on, org, 5_000)
    charge_id = pi["latest_charge"] if isinstance(pi["latest_charge"], str) else (
        pi["latest_charge"]["id"])
    refund_30 = {"id": charge_id, "object": "charge", "payment_intent": pi["id"],
                 "amount": 5_000, "amount_refunded": 3_000}
    refund_40 = {**refund_30, "amount_refunded": 4_000}
    # A refund that overtakes the payment's success is deferred (Stripe retries), not lost.
    early = send_event("charge.refunded", refund_30)
    assert early.status_code == 409
    assert balance(org) == 0 and not LedgerTransaction.objects.exists()
    send_event("payment_intent.succeeded", pi)

    # Cumulative refund events, late and repeated: the wallet loses exactly $40 once.
    for charge in (refund_40, refund_30, refund_40, refund_30):
        assert send_event("charge.refunded", charge).status_code == 200
    assert balance(org) == 10 * 10**9

    dispute = {"id": "dp_1", "object": "dispute", "amount": 1_000, "charge": charge_id,
               "payment_intent": pi["id"], "status": "needs_response"}
    send_event("charge.dispute.created", dispute)
    send_event("charge.dispute.created", dispute)
    assert balance(org) == 0
    kinds = sorted(LedgerTransaction.objects.filter(org=org).values_list("kind", flat=True))
    assert kinds == ["dispute", "refund", "top_up"]
    assert check_wallet_consistency(org).ok


def test_bad_signature_and_old_timestamp_are_400_and_write_nothing(
    org, stripe_on, send_event, client
):
    top_up, pi = paid_intent(stripe_on, org)
    wrong_secret = send_event("payment_intent.succeeded", pi, secret="whsec_not_ours")
    stale = send_event("payment_intent.succeeded", pi, timestamp=int(time.time()) - 301)
    event = {"id": "evt_x", "type": "payment_intent.succeeded", "data": {"object": pi}}
    payload, header = sign_event(event, stripe_on.env["STRIPE_WEBHOOK_SECRET"])
    tampered_header = client.post(
        "/billing/stripe/webhook/", data=payload.replace(b"2500", b"9500"),
        content_type="application/json", HTTP_STRIPE_SIGNATURE=header,
    )

    assert (wrong_secret.status_code, stale.status_code, tampered_header.status_code) == (
        400, 400, 400)
    assert not LedgerTransaction.objects.exists()
    assert balance(org) == 0
    assert TopUp.objects.get(pk=top_up.pk).status == "pending"


def test_an_intent_the_app_did_not_create_is_not_credited(org, stripe_on, send_event):
    pm = card_payment_method(stripe_on)
    foreign = stripe_api(stripe_on, "POST", "payment_intents", {
        "amount": 100_000, "currency": "usd", "payment_method": pm, "confirm": "true",
        "metadata[org_id]": str(org.pk),
    })
    response = send_event("payment_intent.succeeded", foreign)
    assert response.status_code == 200
    assert response.json()["outcome"] == "unknown_intent"
    assert balance(org) == 0
    assert not LedgerTransaction.objects.exists()


def test_a_succeeded_event_with_another_amount_is_not_credited(org, stripe_on, send_event):
    top_up, pi = paid_intent(stripe_on, org, 2_500)
    response = send_event("payment_intent.succeeded", {**pi, "amount": 250_000})
    assert response.json()["outcome"] == "mismatch"
    assert balance(org) == 0


def test_without_a_webhook_secret_every_event_is_refused(org, stripe_on, send_event, settings):
    top_up, pi = paid_intent(stripe_on, org)
    signed_with_old = send_event("payment_intent.succeeded", pi)  # sanity: works when set
    settings.STRIPE_WEBHOOK_SECRET = ""
    refused = send_event("payment_intent.succeeded", pi, secret="whsec_switchyard_test")
    assert (signed_with_old.status_code, refused.status_code) == (200, 400)
