"""Top-ups: create PaymentIntents the app will later credit, and the auto top-up.

The wallet is never credited here. Creating a top-up records a `TopUp` row first, then asks
Stripe for the PaymentIntent (its metadata names the row; Stripe's idempotency key is the
row's), then records the intent's id on the row. So only intents the app created are
credited, and a saved card that Stripe charges at once, whose `payment_intent.succeeded` can
overtake Stripe's answer to us, still finds its row. The credit happens when that verified
webhook arrives (billing/services/webhooks.py).
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing import stripe_client
from billing.models import AutoTopUp, StripeCustomer, TopUp, TopUpStatus, Wallet
from core.errors import InvalidRequest, SwitchyardError
from core.money import cents_to_nanos, dashboard_usd
from marketplace.tenancy.models import Organization

logger = logging.getLogger(__name__)

# The PaymentIntent metadata `purpose` of our top-ups: the webhook tells ours from others by it.
TOP_UP_PURPOSE = "wallet_top_up"


class TopUpsDisabled(SwitchyardError):
    status = 409
    code = "top_ups_disabled"
    # Customers never see configuration; operators find the setup hint in the admin.
    message = "Top-ups are not available yet; contact support"


class PaymentFailed(SwitchyardError):
    status = 402
    code = "payment_failed"
    message = "The payment could not be made."


def _require_stripe() -> None:
    if not stripe_client.top_ups_enabled():
        raise TopUpsDisabled()


def validate_amount_cents(amount_cents: int) -> int:
    low, high = settings.TOPUP_MIN_CENTS, settings.TOPUP_MAX_CENTS
    if not isinstance(amount_cents, int) or not low <= amount_cents <= high:
        raise InvalidRequest(
            f"Top-ups are between {dashboard_usd(cents_to_nanos(low))} and "
            f"{dashboard_usd(cents_to_nanos(high))}.", param="amount"
        )
    return amount_cents


def ensure_stripe_customer(org: Organization) -> str:
    """The org's Stripe customer id, created on first use."""
    existing = StripeCustomer.objects.filter(org=org).first()
    if existing is not None:
        return existing.customer_id
    _require_stripe()
    customer_id = stripe_client.create_customer(
        org_id=org.pk, name=org.legal_name or org.name, email=org.billing_email
    )
    with transaction.atomic():
        row, _ = StripeCustomer.objects.get_or_create(
            org=org, defaults={"customer_id": customer_id}
        )
    return row.customer_id


def start_card_setup(org: Organization) -> str:
    """A SetupIntent client secret: the browser saves a card with Stripe.js."""
    _require_stripe()
    customer_id = ensure_stripe_customer(org)
    try:
        _, client_secret = stripe_client.create_setup_intent(
            customer_id=customer_id, org_id=org.pk
        )
    except stripe_client.StripeCallFailed as exc:
        raise PaymentFailed(exc.message) from exc
    return client_secret


def create_top_up(
    org: Organization,
    amount_cents: int,
    *,
    user=None,
    payment_method_id: str = "",
    automatic: bool = False,
) -> tuple[TopUp, stripe_client.Intent]:
    """Create a PaymentIntent for `amount_cents` and record it as this org's top-up.

    With `payment_method_id` the intent is confirmed at once (off-session for auto top-ups);
    if it needs authentication the browser finishes it with `confirmCardPayment`. Without one
    the browser confirms the intent with a card element.
    """
    _require_stripe()
    validate_amount_cents(amount_cents)
    customer_id = ensure_stripe_customer(org)
    top_up = TopUp.objects.create(
        org=org, amount_cents=amount_cents, created_by=user, automatic=automatic,
        idempotency_key=f"topup-{org.pk}-{uuid.uuid4().hex}",
    )
    try:
        intent = stripe_client.create_payment_intent(
            amount_cents=amount_cents,
            customer_id=customer_id,
            metadata={
                "org_id": str(org.pk),
                "purpose": TOP_UP_PURPOSE,
                "top_up_id": str(top_up.pk),
            },
            payment_method_id=payment_method_id,
            off_session=automatic,
            idempotency_key=top_up.idempotency_key,
        )
    except stripe_client.StripeCallFailed as exc:
        TopUp.objects.filter(pk=top_up.pk, status=TopUpStatus.PENDING).update(
            status=TopUpStatus.FAILED, failure_message=exc.message[:300]
        )
        raise PaymentFailed(exc.message) from exc
    except stripe_client.StripeUnreachable:
        # Stripe may still have taken the intent: its success webhook finds this row by the
        # top_up_id in the metadata and credits it whatever its status says.
        TopUp.objects.filter(pk=top_up.pk, status=TopUpStatus.PENDING).update(
            status=TopUpStatus.FAILED, failure_message="Stripe could not be reached."
        )
        raise
    failed = intent.status in ("requires_payment_method", "canceled") and bool(
        intent.error_message
    )
    # The success webhook may have recorded the intent id (and credited) already.
    TopUp.objects.filter(pk=top_up.pk, payment_intent_id__isnull=True).update(
        payment_intent_id=intent.id
    )
    if failed:
        TopUp.objects.filter(pk=top_up.pk, status=TopUpStatus.PENDING).update(
            status=TopUpStatus.FAILED, failure_message=intent.error_message[:300]
        )
    top_up.refresh_from_db()
    return top_up, intent


def remember_card(org: Organization, payment_method_id: str) -> AutoTopUp:
    """Keep the card a top-up was paid with as the org's saved card (auto top-up stays off)."""
    _require_stripe()
    try:
        label = stripe_client.describe_payment_method(payment_method_id)
    except stripe_client.StripeCallFailed as exc:
        raise PaymentFailed(exc.message) from exc
    row, _ = AutoTopUp.objects.get_or_create(org=org)
    AutoTopUp.objects.filter(pk=row.pk).update(
        payment_method_id=payment_method_id, card_label=label[:60]
    )
    row.refresh_from_db()
    return row


def top_up_nanos(amount_cents: int) -> int:
    return cents_to_nanos(amount_cents)


# --- auto top-up ---------------------------------------------------------------------------


def configure_auto_top_up(
    org: Organization,
    *,
    enabled: bool,
    threshold_nanos: int,
    amount_cents: int,
    payment_method_id: str = "",
) -> AutoTopUp:
    """Save the org's auto top-up settings; a payment method must be saved to enable it."""
    if threshold_nanos < 0:
        raise InvalidRequest("The threshold cannot be negative.", param="threshold")
    settings_row, _ = AutoTopUp.objects.get_or_create(org=org)
    if payment_method_id and payment_method_id != settings_row.payment_method_id:
        _require_stripe()
        try:
            label = stripe_client.describe_payment_method(payment_method_id)
        except stripe_client.StripeCallFailed as exc:
            raise PaymentFailed(exc.message) from exc
        settings_row.payment_method_id = payment_method_id
        settings_row.card_label = label[:60]
    if enabled:
        validate_amount_cents(amount_cents)
        if not settings_row.payment_method_id:
            raise InvalidRequest("Save a card before turning auto top-up on.")
    settings_row.enabled = enabled
    settings_row.threshold_nanos = threshold_nanos
    settings_row.amount_cents = amount_cents
    settings_row.armed = True
    settings_row.save()
    return settings_row


def run_auto_top_ups() -> int:
    """Fire each armed auto top-up whose wallet fell below its threshold; re-arm recovered ones.

    Disarming is a conditional UPDATE (`WHERE armed`), so of two concurrent runs only one
    charges the card for a crossing. Returns how many PaymentIntents were created.
    """
    if not stripe_client.top_ups_enabled():
        return 0
    fired = 0
    for row in AutoTopUp.objects.filter(enabled=True).select_related("org"):
        wallet = Wallet.objects.filter(org_id=row.org_id).first()
        if wallet is None:
            continue
        below = wallet.available_nanos < row.threshold_nanos
        if not below:
            if not row.armed:
                AutoTopUp.objects.filter(pk=row.pk, armed=False).update(armed=True)
            continue
        if not AutoTopUp.objects.filter(pk=row.pk, armed=True).update(armed=False):
            continue  # already fired for this crossing
        fired += _fire(row)
    return fired


def _fire(row: AutoTopUp) -> int:
    try:
        top_up, intent = create_top_up(
            row.org, row.amount_cents, payment_method_id=row.payment_method_id, automatic=True
        )
    except SwitchyardError as exc:
        _record_failure(row, exc.message)
        return 0
    if top_up.status == TopUpStatus.FAILED:
        _record_failure(row, top_up.failure_message or "The saved card was declined.")
    elif intent.status == "requires_action":
        _record_failure(row, "The bank asked for authentication; top up from the wallet page.")
    return 1


def _record_failure(row: AutoTopUp, message: str) -> None:
    logger.warning("auto top-up failed for org %s: %s", row.org_id, message)
    AutoTopUp.objects.filter(pk=row.pk).update(
        last_failure_message=message[:300], last_failure_at=timezone.now()
    )
