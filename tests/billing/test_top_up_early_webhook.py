"""A saved card's success can reach the webhook before Stripe's answer reaches us.

Stripe confirms a PaymentIntent with a saved card inside the create call and may deliver
`payment_intent.succeeded` before that call returns. Here a small HTTP relay sits between
billing and localstripe and delivers the signed event to our webhook before it passes the
answer on, as Stripe can. The top-up must be credited all the same, exactly once.
"""

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from billing_stripe_events import sign_event
from django.db import connection
from django.test import Client

from billing.models import LedgerTransaction, TopUp, Wallet
from billing.services.topups import create_top_up

pytestmark = pytest.mark.django_db(transaction=True)

CARD = {"type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12",
        "card[exp_year]": "2030", "card[cvc]": "123"}


def _post_event(event_type: str, obj: dict, secret: str):
    event = {"id": f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "type": event_type,
             "data": {"object": obj}}
    payload, header = sign_event(event, secret)
    return Client().post("/billing/stripe/webhook/", data=payload,
                         content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


class _Relay:
    """Forwards Stripe API calls to localstripe; a created-and-succeeded PaymentIntent's
    webhook is delivered (in the relay's thread) before the answer goes back."""

    def __init__(self, upstream: str, secret: str):
        self.early: list[tuple[int, dict]] = []
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._forward()

            def do_POST(self):
                self._forward()

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection")}
                answer = httpx.request(self.command, upstream + self.path, content=body,
                                       headers=headers, timeout=10)
                if self.command == "POST" and self.path == "/v1/payment_intents":
                    intent = answer.json()
                    if intent.get("status") == "succeeded":
                        try:
                            response = _post_event("payment_intent.succeeded", intent, secret)
                            relay.early.append((response.status_code, response.json()))
                        finally:
                            connection.close()  # this thread's own database connection
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _stripe(localstripe, method: str, path: str, data=None) -> dict:
    response = httpx.request(method, f"{localstripe.url}/v1/{path}", data=data,
                             auth=(localstripe.env["STRIPE_SECRET_KEY"], ""), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_saved_card_success_that_overtakes_stripes_answer_is_credited_once(
    org, stripe_on, settings, send_event
):
    card = _stripe(stripe_on, "POST", "payment_methods", CARD)["id"]
    with _Relay(stripe_on.url, settings.STRIPE_WEBHOOK_SECRET) as relay:
        settings.STRIPE_API_BASE = relay.url
        top_up, intent = create_top_up(org, 2_500, payment_method_id=card, automatic=True)

    assert [(status, body["outcome"]) for status, body in relay.early] == [(200, "credited")]
    assert intent.status == "succeeded"
    top_up.refresh_from_db()
    assert (top_up.payment_intent_id, top_up.status) == (intent.id, "succeeded")
    paid = _stripe(stripe_on, "GET", f"payment_intents/{intent.id}")
    assert paid["metadata"] == {"org_id": str(org.pk), "purpose": "wallet_top_up",
                                "top_up_id": str(top_up.pk)}
    # Stripe's own later deliveries change nothing.
    assert send_event("payment_intent.succeeded", paid).json()["outcome"] == "duplicate"
    assert Wallet.objects.get(org=org).balance_nanos == 25 * 10**9
    assert LedgerTransaction.objects.filter(org=org).count() == 1


def test_our_top_up_intent_with_no_row_yet_is_redelivered_not_dropped(
    org, stripe_on, send_event
):
    # An intent our code created (its purpose says so) whose row is not there: 409, so
    # Stripe redelivers; nothing is credited until the row exists.
    card = _stripe(stripe_on, "POST", "payment_methods", CARD)["id"]
    paid = _stripe(stripe_on, "POST", "payment_intents", {
        "amount": 1_500, "currency": "usd", "payment_method": card, "confirm": "true",
        "metadata[org_id]": str(org.pk), "metadata[purpose]": "wallet_top_up",
    })
    early = send_event("payment_intent.succeeded", paid)

    assert early.status_code == 409
    assert Wallet.objects.get(org=org).balance_nanos == 0
    assert not LedgerTransaction.objects.exists()
    TopUp.objects.create(org=org, payment_intent_id=paid["id"], amount_cents=1_500)
    assert send_event("payment_intent.succeeded", paid).json()["outcome"] == "credited"
    assert Wallet.objects.get(org=org).balance_nanos == 15 * 10**9


def test_an_intent_naming_another_orgs_top_up_is_not_credited_or_attached(
    org, make_org, stripe_on, send_event
):
    other = make_org()
    waiting = TopUp.objects.create(org=other, amount_cents=1_500)  # its intent not recorded
    card = _stripe(stripe_on, "POST", "payment_methods", CARD)["id"]
    paid = _stripe(stripe_on, "POST", "payment_intents", {
        "amount": 1_500, "currency": "usd", "payment_method": card, "confirm": "true",
        "metadata[org_id]": str(org.pk), "metadata[purpose]": "wallet_top_up",
        "metadata[top_up_id]": str(waiting.pk),
    })

    response = send_event("payment_intent.succeeded", paid)

    assert (response.status_code, response.json()["outcome"]) == (200, "mismatch")
    waiting.refresh_from_db()
    assert (waiting.payment_intent_id, waiting.status) == (None, "pending")
    assert not LedgerTransaction.objects.exists()
