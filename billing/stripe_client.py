"""The Stripe SDK wrapper: every call billing makes to Stripe, and webhook verification.

Kept apart from the top-up glue (billing/services/topups.py) and the webhook handling
(billing/services/webhooks.py), as Saleor keeps its payment gateways. Configuration comes from
settings each time a client is built (no module-level SDK globals): `STRIPE_SECRET_KEY`, and
`STRIPE_API_BASE` to point at a local Stripe (localstripe in tests and CI). Every call has a
timeout. Amounts here are cents, Stripe's unit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import stripe
from django.conf import settings

from core.errors import SwitchyardError

# Stripe answers in well under a second; a hung call must not hold a request thread.
TIMEOUT_S = 15
WEBHOOK_TOLERANCE_S = 300


def missing_settings() -> list[str]:
    """The Stripe settings still unset: top-ups are on only when none is (the admin lists them)."""
    names = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")
    return [name for name in names if not getattr(settings, name)]


class StripeNotConfigured(Exception):
    """No STRIPE_SECRET_KEY: top-ups are off."""


class StripeCallFailed(Exception):
    """Stripe refused or could not be reached; `message` is safe to show the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class StripeUnreachable(SwitchyardError):
    """Stripe could not be reached (network, DNS, timeout): nothing was charged; retry later.

    A SwitchyardError, not a StripeCallFailed, so it passes the top-up glue untouched and the
    view answers 503 (a friendly page, or JSON for the wallet page's script).
    """

    status = 503
    code = "stripe_unreachable"
    message = ("Payments are unavailable right now: we could not reach our payment provider. "
               "Nothing was charged; please try again in a few minutes.")
    retryable = True


class WebhookRejected(Exception):
    """A webhook whose signature or timestamp does not verify."""


@dataclass(frozen=True, slots=True)
class Intent:
    id: str
    status: str
    client_secret: str
    amount: int
    error_message: str = ""


def top_ups_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise StripeNotConfigured("Set STRIPE_SECRET_KEY to turn top-ups on.")
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base,
        max_network_retries=2,
        # requests, stripe's own default: its httpx client sends the form as raw bytes in `data`,
        # which httpx deprecates and will drop.
        http_client=stripe.RequestsClient(timeout=TIMEOUT_S),
    )


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except stripe.APIConnectionError as exc:
        raise StripeUnreachable() from exc
    except stripe.CardError as exc:
        raise StripeCallFailed(exc.user_message or "The card was declined.") from exc
    except stripe.StripeError as exc:
        raise StripeCallFailed(exc.user_message or "Stripe could not process the request.") from exc


def _intent(obj) -> Intent:
    error = getattr(obj, "last_payment_error", None)
    message = (getattr(error, "message", "") or "") if error else ""
    return Intent(
        id=obj.id,
        status=obj.status,
        client_secret=obj.client_secret or "",
        amount=obj.amount,
        error_message=message,
    )


def create_customer(*, org_id: int, name: str, email: str = "") -> str:
    params = {"name": name, "metadata": {"org_id": str(org_id)}}
    if email:
        params["email"] = email
    return _call(_client().v1.customers.create, params).id


def create_setup_intent(*, customer_id: str, org_id: int) -> tuple[str, str]:
    """A SetupIntent to save a card for this customer; returns (id, client_secret)."""
    intent = _call(
        _client().v1.setup_intents.create,
        {
            "customer": customer_id,
            "usage": "off_session",
            "payment_method_types": ["card"],
            "metadata": {"org_id": str(org_id)},
        },
    )
    return intent.id, intent.client_secret


def describe_payment_method(payment_method_id: str) -> str:
    """A short label ("visa ending 4242") for a saved card."""
    method = _call(_client().v1.payment_methods.retrieve, payment_method_id)
    card = getattr(method, "card", None)
    if card is None:
        return "saved payment method"
    return f"{getattr(card, 'brand', 'card')} ending {getattr(card, 'last4', '????')}"


def create_payment_intent(
    *,
    amount_cents: int,
    customer_id: str,
    metadata: dict[str, str],
    payment_method_id: str = "",
    off_session: bool = False,
    idempotency_key: str,
) -> Intent:
    """Create (and, with a payment method, confirm) a USD card PaymentIntent.

    Without a payment method the browser confirms it with Stripe.js. A declined off-session
    charge comes back as an Intent whose `error_message` says why, not as an exception.
    """
    params: dict = {
        "amount": amount_cents,
        "currency": "usd",
        "customer": customer_id,
        "payment_method_types": ["card"],
        "metadata": metadata,
    }
    if payment_method_id:
        params.update(payment_method=payment_method_id, confirm=True)
        if off_session:
            params["off_session"] = True
    client = _client()
    try:
        obj = client.v1.payment_intents.create(
            params, {"idempotency_key": idempotency_key}
        )
    except stripe.CardError as exc:
        # Stripe created the intent but the charge failed; report it as a failed intent.
        intent = getattr(getattr(exc, "error", None), "payment_intent", None)
        message = exc.user_message or "The card was declined."
        if intent is not None:
            return Intent(intent.id, "requires_payment_method", "", amount_cents, message)
        raise StripeCallFailed(message) from exc
    except stripe.APIConnectionError as exc:
        raise StripeUnreachable() from exc
    except stripe.StripeError as exc:
        raise StripeCallFailed(exc.user_message or "Stripe could not process the request.") from exc
    return _intent(obj)


def verify_webhook(payload: bytes, signature_header: str) -> dict:
    """Check the Stripe-Signature header (HMAC, 300 s tolerance) and return the event dict."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise WebhookRejected("STRIPE_WEBHOOK_SECRET is not set")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature_header or "", secret, WEBHOOK_TOLERANCE_S
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
        raise WebhookRejected(str(exc)) from exc
    except RecursionError as exc:  # a signed body nested past Python's limit: still not an event
        raise WebhookRejected("nested too deeply") from exc
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise WebhookRejected("not a Stripe event")
    return event
