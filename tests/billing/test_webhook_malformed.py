"""Signed Stripe events with malformed fields: a clear 400, nothing written, never a 500."""

import uuid

import pytest
from billing_stripe_events import sign_event

from billing.models import LedgerEntry, LedgerTransaction, TopUp, TopUpDispute, Wallet

pytestmark = pytest.mark.django_db

SECRET = "whsec_malformed_test"


@pytest.fixture
def post_signed(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET

    def post(event: dict):
        payload, header = sign_event({"id": f"evt_{uuid.uuid4().hex[:24]}", **event}, SECRET)
        return client.post("/billing/stripe/webhook/", data=payload,
                           content_type="application/json", HTTP_STRIPE_SIGNATURE=header)

    return post


def _intent(org, top_up, **changes) -> dict:
    intent = {"id": top_up.payment_intent_id, "object": "payment_intent", "amount": 2_500,
              "currency": "usd", "status": "succeeded", "latest_charge": "ch_paid",
              "metadata": {"org_id": str(org.pk), "purpose": "wallet_top_up"}}
    intent.update(changes)
    return {key: value for key, value in intent.items() if value is not ...}


def _malformed(org, paid, pending):
    """(event type, data) pairs, each wrong in one field; `...` drops the field."""
    charge = {"id": "ch_paid", "object": "charge", "payment_intent": paid.payment_intent_id,
              "amount": 2_500, "amount_refunded": 1_000}
    dispute = {"id": "dp_1", "object": "dispute", "amount": 1_000, "charge": "ch_paid",
               "payment_intent": paid.payment_intent_id, "status": "won"}

    def drop(obj, **changes):
        merged = {**obj, **changes}
        return {key: value for key, value in merged.items() if value is not ...}

    return [
        ("payment_intent.succeeded", {}),
        ("payment_intent.succeeded", {"object": ["not", "an", "object"]}),
        ("payment_intent.succeeded", {"object": None}),
        ("payment_intent.succeeded", {"object": _intent(org, pending, amount="2500")}),
        ("payment_intent.succeeded", {"object": _intent(org, pending, amount=2_500.0)}),
        ("payment_intent.succeeded", {"object": _intent(org, pending, amount=True)}),
        ("payment_intent.succeeded", {"object": _intent(org, pending, metadata=...)}),
        ("payment_intent.succeeded", {"object": _intent(org, pending, metadata=["x"])}),
        ("payment_intent.succeeded", {"object": _intent(org, pending, id={"x": 1})}),
        ("payment_intent.succeeded", {"object": _intent(org, pending, currency=...)}),
        ("payment_intent.succeeded", {"object": _intent(org, pending, status=7)}),
        ("payment_intent.payment_failed",
         {"object": _intent(org, pending, status="requires_payment_method",
                            last_payment_error="declined")}),
        ("charge.refunded", {"object": drop(charge, amount_refunded="1000")}),
        ("charge.refunded", {"object": drop(charge, amount_refunded=...)}),
        ("charge.refunded", {"object": drop(charge, amount_refunded=-5)}),
        ("charge.refunded", {"object": drop(charge, payment_intent=["pi"])}),
        ("charge.dispute.created", {"object": drop(dispute, amount="1000")}),
        ("charge.dispute.created", {"object": drop(dispute, id=...)}),
        ("charge.dispute.created", {"object": drop(dispute, amount=...)}),
        ("charge.dispute.created", {"object": drop(dispute, id="dp_" + "x" * 70)}),
        ("charge.dispute.closed", {"object": drop(dispute, status=...)}),
        ("charge.dispute.closed", {"object": drop(dispute, amount=None)}),
    ]


def test_malformed_events_are_400_and_write_nothing(org, post_signed):
    paid = TopUp.objects.create(org=org, payment_intent_id="pi_paid", amount_cents=2_500)
    pending = TopUp.objects.create(org=org, payment_intent_id="pi_pending", amount_cents=2_500)
    credited = post_signed({"type": "payment_intent.succeeded",
                            "data": {"object": _intent(org, paid, latest_charge="ch_paid")}})
    assert credited.json()["outcome"] == "credited"
    before = (Wallet.objects.get(org=org).balance_nanos, LedgerEntry.objects.count(),
              list(TopUp.objects.order_by("pk").values()))

    answers = [
        (event_type, post_signed({"type": event_type, "data": data}))
        for event_type, data in _malformed(org, paid, pending)
    ]

    assert [(t, r.status_code) for t, r in answers] == [(t, 400) for t, _ in answers]
    assert {r.json()["error"] for _, r in answers} == {"malformed event"}
    assert (Wallet.objects.get(org=org).balance_nanos, LedgerEntry.objects.count(),
            list(TopUp.objects.order_by("pk").values())) == before
    assert LedgerTransaction.objects.count() == 1
    assert not TopUpDispute.objects.exists()


def test_an_event_type_we_do_not_handle_is_200_whatever_its_shape(org, post_signed):
    response = post_signed({"type": "customer.created", "data": {"object": "odd"}})
    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")


def test_an_event_whose_type_is_not_a_string_is_400(org, post_signed):
    response = post_signed({"type": ["payment_intent.succeeded"], "data": {"object": {}}})
    assert (response.status_code, response.json()["error"]) == (400, "malformed event")


def test_signed_event_nested_past_the_recursion_limit_is_400(client, settings):
    """A validly signed body nested 100,000 deep is refused, not a RecursionError 500."""
    import hashlib
    import hmac
    import time

    settings.STRIPE_WEBHOOK_SECRET = SECRET
    payload = ('{"id": "evt_deep", "type": "payment_intent.succeeded", "data": '
               + "[" * 100_000 + "]" * 100_000 + "}").encode()
    ts = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    response = client.post("/billing/stripe/webhook/", data=payload,
                           content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=f"t={ts},v1={digest}")
    assert response.status_code == 400
    assert LedgerTransaction.objects.count() == 0
